# mqtt-mcp-bridge container image. Classic builder syntax only (no BuildKit features).
#
#   docker build -t mqtt-mcp-bridge:local .
#   docker build --build-arg NODE_IMAGE=<another image, or a local stand-in> .
#
# The base image comes from NODE_IMAGE. The default is the official Node 24 LTS slim image,
# pinned by exact version tag and by the digest of its multi-platform index as the official
# images program records it (github.com/docker-library/repo-info,
# repos/node/remote/24.21.0-bookworm-slim.md). Check it against the registry you trust before
# production (`docker buildx imagetools inspect node:24.21.0-bookworm-slim`); when a newer
# patch is out, move tag and digest together. Sites without a registry pass a locally built
# image (scripts/docker-images.sh).
#
# Run it with tini as PID 1 (`docker run --init`, compose `init: true`): tini reaps zombies
# and forwards signals. The app itself shuts down cleanly on SIGTERM, SIGINT and, over stdio,
# on stdin EOF (MQTT DISCONNECT, exit 0 within 5 s). It writes nothing outside /tmp and the
# history volume /data, so it runs with a read-only root filesystem, a small tmpfs on /tmp and a
# volume on /data. See docs/DEPLOYMENT.md.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

# ---- build: dev dependencies, TypeScript compile ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and dist/ only --------------------------------------
FROM ${NODE_IMAGE}
# The MCP Registry's ownership label (server.json "name") and the release (package.json
# "version"); test/packaging checks that they match.
LABEL io.modelcontextprotocol.server.name="io.github.mqtt-mcp-bridge/mqtt-mcp-bridge" \
      org.opencontainers.image.title="mqtt-mcp-bridge" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# The V8 heap is capped below the 256 MiB the compose file and the README's `docker run` give
# the container. Left to itself, Node sizes the heap from the cgroup limit (259 MiB in 256 MiB)
# and lets it fill with garbage before a major collection, so heap plus Node's native memory
# (~70 MiB) passed the limit: 1,500 messages on 60 KB topics reached 260-270 MiB RSS
# (test/soak/suspicious-topics.test.ts). With 160 MiB the same run peaks well below 256 MiB.
# The store's default 64 MiB (STORE_MAX_BYTES) fits; raise both together, with the memory limit.
ENV NODE_OPTIONS=--max-old-space-size=160
# A dedicated user with a fixed numeric uid/gid, so that file ownership on mounted keys and
# secrets is predictable (chown 10001 on the host). No home directory, no login shell.
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bridge \
 && mkdir -m 0700 /data \
 && chown 10001:10001 /data
# History (HISTORY_PATH): the SQLite file lives on the /data volume, the one writable place
# besides /tmp under a read-only root filesystem. Mount a named volume there to keep it across
# containers (`-v mqtt-history:/data`; compose does); set HISTORY_PATH= (empty) to turn it off.
# /data belongs to the bridge user with mode 0700; the file is created with mode 0600. A new
# named volume takes its owner and mode from this directory.
ENV HISTORY_PATH=/data/history.db
VOLUME ["/data"]
WORKDIR /app
# Everything under /app belongs to root and is read-only for the bridge user.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --no-update-notifier --ignore-scripts \
 && npm cache clean --force \
 && rm -rf /root/.npm /root/.cache /tmp/* \
 && chmod -R go-w /app
COPY --from=build /src/dist ./dist
USER 10001:10001
# HTTP mode listens here (MCP_TRANSPORT=http); stdio mode publishes nothing.
EXPOSE 3000
# Healthy = the MCP listener answers /healthz; the output also says whether MQTT is connected
# (from /readyz). In stdio mode it reports healthy: there is no listener to probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/healthcheck.js"]
ENTRYPOINT ["node", "dist/index.js"]
