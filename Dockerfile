# The OpenDepot image: the operator and the server with the first-party plugins. The chart runs
# `node /app/packages/<operator|server>/dist/main.js --config /etc/opendepot/config.yaml`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN corepack enable && corepack prepare pnpm@12.4.2 --activate
COPY . .
RUN pnpm install --frozen-lockfile && pnpm exec tsc -b tsconfig.build.json \
 && pnpm deploy --filter @opendepot/operator --prod /out/operator \
 && pnpm deploy --filter @opendepot/server --prod /out/server

FROM node:24-bookworm-slim
# git for the git archive source; nothing else beyond Node.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/operator /app/packages/operator
COPY --from=build /out/server /app/packages/server
USER 65532:65532
ENV NODE_ENV=production
