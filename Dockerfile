# The OpenDepot image: the operator and the server, with the first-party plugins, sharing one
# node_modules. The chart runs
#   node /app/packages/<operator|server>/dist/main.js --config /etc/opendepot/config.yaml
#   node /app/packages/operator/dist/install-plugins.js ...   (init container, third-party plugins)
# `docker build .` makes the plain image; `docker build --target with-trivy .` adds the trivy
# binary for @opendepot/plugin-trivy (operator.scanning), at /usr/local/bin/trivy.
# `--build-arg BASE=<image>` names another Node 24 Debian base (the test bed builds its own; the
# runtime stage installs git and ca-certificates only when the base lacks them).
#
# Size, uncompressed (measured 2026-12 with buildah on the test bed's base, Debian bookworm
# minbase + Node 24.21.0; packages/testbed/tools/build-images.sh): the default image is 354 MB
# (was 867 MB with a pnpm deploy per host on node:24-bookworm-slim). What remains:
#   104 MB  the node binary
#   163 MB  Debian: minbase, git (~30 MB) and the perl it depends on (~45 MB), ca-certificates
#    62 MB  /app/node_modules, shared by both hosts: @kubernetes/client-node 24 MB (generated API
#           models), Azure SDK 7 MB, AWS SDK 6 MB, openpgp 3 MB, the rest small
#    11 MB  npm (for install-plugins.js)
# with-trivy adds the trivy binary (168 MB).
ARG BASE=node:24-bookworm-slim
# The stage or image the with-trivy target takes /out/trivy from (the test bed passes a prebuilt one).
ARG TRIVY_IMAGE=trivy-build

FROM ${BASE} AS build
WORKDIR /src
ENV COREPACK_HOME=/opt/corepack COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_ENABLE_STRICT=0
# npm for install-plugins.js (the base's own npm, if any, is replaced by this pinned one).
ARG NPM_VERSION=11.21.2
# Behind a TLS-intercepting proxy, pass its CA as the build secret `ca` and, if the registry
# serves packages without signatures, --build-arg COREPACK_INTEGRITY_KEYS=0. Both are used in
# this RUN only and never reach the runtime stage.
ARG COREPACK_INTEGRITY_KEYS
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    if [ -z "${COREPACK_INTEGRITY_KEYS:-}" ]; then unset COREPACK_INTEGRITY_KEYS; fi; \
    set -eux; \
    corepack enable pnpm; \
    corepack install; \
    pnpm fetch --reporter=append-only; \
    (cd / && corepack "npm@${NPM_VERSION}" --version); \
    mkdir -p /out; cp -a "$COREPACK_HOME/v1/npm/${NPM_VERSION}" /out/npm; \
    rm -rf /out/npm/docs /out/npm/man /out/npm/*.md; \
    find /out/npm -type f \( -name '*.md' -o -name '*.map' -o -name '*.d.ts' \) -delete

COPY . .
# One `pnpm deploy` (hoisted: a flat node_modules) of a throwaway package that depends on both
# hosts; the hosts then move to /app/packages/<name>, resolving everything from /app/node_modules.
# Then prune what Node never loads here: TypeScript sources, declarations, source maps, docs and
# tests, browser and React Native bundles, other platforms' prebuilt binaries. Both entries' --help
# then loads their import graphs; the libraries the server imports on first use (openpgp,
# markdown-it, openid-client) are imported too, so pruning that broke one fails the build.
RUN set -eux; \
    pnpm install --offline --frozen-lockfile --reporter=append-only; \
    pnpm exec tsc -b packages/plugin-fs packages/plugin-s3 packages/plugin-azure packages/plugin-gcs packages/plugin-trivy packages/plugin-dex packages/plugin-sources packages/server packages/operator; \
    mkdir packages/opendepot-image; \
    echo '{"name":"opendepot-image","version":"0.0.0","private":true,"dependencies":{"@opendepot/operator":"workspace:*","@opendepot/server":"workspace:*"}}' >packages/opendepot-image/package.json; \
    pnpm install --offline --no-frozen-lockfile --reporter=append-only; \
    pnpm deploy --filter opendepot-image --prod --offline --config.node-linker=hoisted --reporter=append-only /out/app; \
    cd /out/app; \
    rm -rf package.json pnpm-lock.yaml pnpm-workspace.yaml node_modules/.pnpm node_modules/.modules.yaml; \
    mkdir packages; \
    for host in operator server; do \
      mv "node_modules/@opendepot/$host" "packages/$host"; ln -s "../../packages/$host" "node_modules/@opendepot/$host"; \
    done; \
    rm -rf node_modules/@types node_modules/@opendepot/*/src packages/*/src node_modules/@azure/msal-browser \
      node_modules/openpgp/dist/openpgp.* node_modules/openpgp/dist/lightweight node_modules/openpgp/lightweight; \
    find . -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.tsbuildinfo' \
      -o -name '*.md' -o -name '*.markdown' -o -iname 'readme' -o -iname 'readme.txt' -o -iname 'changelog' -o -iname 'changelog.txt' \
      -o -name 'tsconfig*.json' -o -name '.eslintrc*' -o -name '.prettierrc*' -o -name '.editorconfig' -o -name '.npmignore' \
      -o -name '*.c' -o -name '*.h' -o -name 'CMakeLists.txt' -o -name 'binding.gyp' \) -delete; \
    find node_modules -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name example -o -name examples \
      -o -name .github \) -exec rm -rf {} +; \
    find node_modules -depth -type d \( -path '*/dist/browser' -o -path '*/dist/react-native' \) -exec rm -rf {} +; \
    find node_modules -type d -name prebuilds | while read -r d; do find "$d" -mindepth 1 -maxdepth 1 ! -name 'linux-x64*' -exec rm -rf {} +; done; \
    node packages/server/dist/main.js --help >/dev/null; \
    node packages/operator/dist/main.js --help >/dev/null; \
    (cd packages/server && node --input-type=module -e "await Promise.all(['openpgp', 'markdown-it', 'openid-client'].map((m) => import(m)))")

# Trivy v0.74.0 is the newest release that builds with Go 1.26 (and the one the tests run).
FROM golang:1.26-bookworm AS trivy-build
RUN GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOBIN=/out go install \
      -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0" \
      github.com/aquasecurity/trivy/cmd/trivy@v0.74.0

FROM ${TRIVY_IMAGE} AS trivy

FROM ${BASE} AS opendepot
# git for the git archive source, and CA certificates: installed only when the base lacks them
# (so a base that has them builds with no network). npm: the pinned one from the build stage.
RUN set -eux; \
    if ! command -v git >/dev/null 2>&1 || [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update; apt-get install -y --no-install-recommends git ca-certificates; rm -rf /var/lib/apt/lists/*; \
    fi; \
    rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
COPY --from=build /out/npm /usr/local/lib/node_modules/npm
COPY --from=build /out/app /app
WORKDIR /app
# HOME (npm's and git's) on /tmp: with a read-only root file system, /tmp is the writable mount.
ENV NODE_ENV=production HOME=/tmp
USER 65532:65532

FROM opendepot AS with-trivy
COPY --from=trivy /out/trivy /usr/local/bin/trivy

# The default target: the image without trivy.
FROM opendepot
