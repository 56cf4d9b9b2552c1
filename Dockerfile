# Custos container image: build with the toolchain, run on a slim image as the non-root user.
#   docker build -t custos .
# better-sqlite3 is a native module: it is built (or its prebuilt binary fetched) in the build stage
# on the same base image as the runtime stage, so the compiled binary matches the runtime's glibc.

FROM node:22-bookworm-slim AS build
WORKDIR /app
# Toolchain for node-gyp, used when no prebuilt better-sqlite3 binary fits this platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm install, not npm ci: a lockfile made on a developer machine lacks the optional native
# packages (e.g. @swc/core's) of other platforms, which npm ci refuses to resolve.
RUN npm install --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
COPY migrations ./migrations
# npm run build compiles the custos CLI too (cli/); the runtime stage takes only dist/.
COPY cli ./cli
RUN npm run build \
  && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 CUSTOS_DATA_DIR=/var/lib/custos
WORKDIR /app
# Application files stay owned by root, so the running process cannot modify its own code.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
# The data directory (SQLite file, development key) is the only place the service writes; a named
# volume mounted here starts with this ownership.
RUN mkdir -p /var/lib/custos \
  && chown node:node /var/lib/custos \
  && chmod 700 /var/lib/custos
USER node
EXPOSE 3000
# Liveness only: it answers while sealed too, so a sealed vault is not restarted in a loop.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/v1/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
