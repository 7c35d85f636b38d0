# syntax=docker/dockerfile:1
# matrix-crm-bridge: the appservice and the scheduled pipeline. Node 24 runs the TypeScript sources directly.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; better-sqlite3 ships prebuilt N-API binaries, so no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MCB_CONFIG=/etc/matrix-crm-bridge/config.toml \
    MCB_DATABASE_URL=sqlite:/data/bridge.db \
    MCB_APPSERVICE_REGISTRATION=/data/registration.yaml \
    MCB_HTTP_HOST=0.0.0.0 \
    MCB_LOGGING_FORMAT=json
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
COPY config.toml /etc/matrix-crm-bridge/config.toml
RUN groupadd --system --gid 10001 bridge \
 && useradd --system --uid 10001 --gid bridge --home-dir /data --shell /usr/sbin/nologin bridge \
 && mkdir -p /data && chown bridge:bridge /data
USER bridge
VOLUME ["/data"]
EXPOSE 29330
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MCB_HTTP_PORT||29330)+'/health').then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))"]
# V8 young generation as the launcher sizes it for `start` (bin/matrix-crm-bridge.mjs); other commands run with
# `docker exec <container> node bin/matrix-crm-bridge.mjs <command>` get theirs from the launcher.
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/matrix-crm-bridge.mjs"]
CMD ["start"]
