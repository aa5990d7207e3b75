# Aqueduct as a sidecar container: `aqueduct run`, configured by AQUEDUCT_*
# environment variables (docs/running.md lists every one), beside an HAProxy
# container that shares its config and master socket (deploy/kubernetes/).
# The haproxy binary is here too: Aqueduct checks every candidate config with
# `haproxy -c` before HAProxy ever sees it.

# HAProxy: Debian bookworm's 2.6 here checks configs (haproxy -c) for the sidecar, which runs the
# official haproxy:2.6 image: one major.minor on both sides (deploy/kubernetes, deploy/compose.yaml).
# Pin the base images by digest for reproducible builds: replace each tag with tag@sha256:<digest>,
# the digest from `docker buildx imagetools inspect node:22-bookworm-slim` (and haproxy:2.6 in the
# pod specs), and bump them together when updating.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY schemas ./schemas
COPY ui ./ui
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends haproxy \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /run/haproxy /manifests /var/lib/aqueduct \
  && chown node:node /run/haproxy /manifests /var/lib/aqueduct
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY templates ./templates
COPY examples ./examples
# The sidecar layout: HAProxy's config and sockets on a shared volume at
# /run/haproxy, HAProxy started elsewhere (external mode, reloaded through
# its master socket), manifests mounted at /manifests.
ENV NODE_ENV=production \
    AQUEDUCT_MANIFESTS=/manifests \
    AQUEDUCT_HAPROXY_MODE=external \
    AQUEDUCT_HAPROXY_CFG_PATH=/run/haproxy/haproxy.cfg \
    AQUEDUCT_HAPROXY_SOCKET_PATH=/run/haproxy/stats.sock \
    AQUEDUCT_HAPROXY_MASTER_SOCKET=/run/haproxy/master.sock \
    AQUEDUCT_STATE_DIR=/var/lib/aqueduct \
    AQUEDUCT_HOST=0.0.0.0 \
    AQUEDUCT_PORT=10000
USER node
EXPOSE 10000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AQUEDUCT_PORT || 10000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/aqueduct.js"]
CMD ["run"]
