# syntax=docker/dockerfile:1
# matrix-crm-bridge: the appservice and the scheduled pipeline. Node 24 runs the TypeScript sources directly.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; better-sqlite3 ships prebuilt N-API binaries, so no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# Only what no config file can say. Paths and the bind address come from the config file: an MCB_* variable
# set here would silently win over the operator's config.toml (deploy/config.toml sets its own registration
# path, for one). The shipped defaults point into ./data, which is /data here (see the link below).
ENV NODE_ENV=production \
    MCB_CONFIG=/etc/matrix-crm-bridge/config.toml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json config.toml ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY jobs ./jobs
COPY schemas ./schemas
COPY models ./models
COPY test/specs ./test/specs
# The default config: the shipped one, listening on every interface of the container instead of loopback.
RUN mkdir -p /etc/matrix-crm-bridge \
 && sed 's/^host = "127.0.0.1"$/host = "0.0.0.0"/' config.toml > /etc/matrix-crm-bridge/config.toml \
 && grep -q '^host = "0.0.0.0"$' /etc/matrix-crm-bridge/config.toml
# ./data (the database, the registration, the demo's output under the shipped defaults) is the /data volume.
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid bridge --home-dir /data --shell /usr/sbin/nologin bridge \
 && mkdir -p /data && chown bridge:bridge /data && ln -s /data /app/data
USER bridge
VOLUME ["/data"]
EXPOSE 29330
# Asks /health on the [http] host/port of the same config and environment as `start`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "scripts/healthcheck.mjs"]
# V8 young generation as the launcher sizes it for `start` (bin/matrix-crm-bridge.mjs); other commands run with
# `docker exec <container> node bin/matrix-crm-bridge.mjs <command>` get theirs from the launcher.
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/matrix-crm-bridge.mjs"]
CMD ["start"]
