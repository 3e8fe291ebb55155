# syntax=docker/dockerfile:1

# ---- build: dependencies, native modules and the compiled bundles, made once ---------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary when one matches; otherwise node-gyp compiles it
# and needs these. They stay in this stage only.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first, without the build (its sources are not copied yet): this layer is
# reused until package-lock.json changes.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 esbuild
# What is copied is decided by .dockerignore (no node_modules, data, .git, secrets).
COPY . .
# esbuild bundles the service and the command line into dist/, and a training start saves the
# V8 code cache they start from (made by this image's Node.js, so the runtime accepts it).
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled JavaScript only, as a user without privileges -------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  DATA_DIR=/data
WORKDIR /app
# No sources, no TypeScript: the bundles in dist/, their runners in bin/, and the packages
# they load at run time (native addons, the EventStoreDB client).
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/bin ./bin
# The volume is created from this directory, so a fresh named volume is owned by `node`.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# Liveness only; readiness (the store answers, projections caught up) is /health/ready.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node as PID 1's child (compose runs tini) receives SIGTERM directly: no npm in between.
CMD ["node", "bin/service.js"]
