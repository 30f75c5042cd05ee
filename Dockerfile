# The OpenDepot image: the operator and the server with the first-party plugins (they are
# dependencies of both packages, so `pnpm deploy` ships them). The chart runs
# `node /app/packages/<operator|server>/dist/main.js --config /etc/opendepot/config.yaml`.
# `docker build .` makes the plain image; `docker build --target with-trivy .` adds the trivy
# binary for @opendepot/plugin-trivy (operator.scanning), at /usr/local/bin/trivy.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN corepack enable && corepack prepare pnpm@12.4.2 --activate
COPY . .
RUN pnpm install --frozen-lockfile && pnpm exec tsc -b tsconfig.build.json \
 && pnpm deploy --filter @opendepot/operator --prod /out/operator \
 && pnpm deploy --filter @opendepot/server --prod /out/server

# Trivy v0.74.0 is the newest release that builds with Go 1.26 (and the one the tests run).
FROM golang:1.26-bookworm AS trivy
RUN GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOBIN=/out go install \
      -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0" \
      github.com/aquasecurity/trivy/cmd/trivy@v0.74.0

FROM node:24-bookworm-slim AS opendepot
# git for the git archive source; nothing else beyond Node.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/operator /app/packages/operator
COPY --from=build /out/server /app/packages/server
USER 65532:65532
ENV NODE_ENV=production

FROM opendepot AS with-trivy
COPY --from=trivy /out/trivy /usr/local/bin/trivy

# The default target: the image without trivy.
FROM opendepot
