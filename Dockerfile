# syntax=docker/dockerfile:1

# ---- build: production dependencies, native modules compiled here ---------------------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary when one matches; otherwise node-gyp compiles it
# and needs these. They stay in this stage only.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources at runtime and is a production dependency, so no build step
# and no dev dependencies (vitest, testcontainers, biome…) in the image.
RUN npm ci --omit=dev --no-audit --no-fund

# ---- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  DATA_DIR=/data \
  NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
# What is copied is decided by .dockerignore (no node_modules, data, .git, secrets).
COPY --chown=node:node . .
# The volume is created from this directory, so a fresh named volume is owned by `node`.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# Liveness only; readiness (the store answers, projections caught up) is /health/ready.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]
