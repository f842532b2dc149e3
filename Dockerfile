# The official Node image. Machines that cannot pull it build a local stand-in
# (.ci/stand-in-base) and pass its name: docker build --build-arg NODE_IMAGE=<name> .
ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: compile TypeScript with the full dev toolchain.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

# Runtime stage: production dependencies, the compiled output, openapi.yaml and the console page only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script to run, and the docs
# package's analytics hook has no business phoning home from a server.
# Source maps are for debuggers, never served (/docs serves an allowlist): more than
# half of the install. Deleted in the same layer, or the image would still carry them.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force \
  && find node_modules -name '*.map' -type f -delete
COPY --from=build /app/dist ./dist
COPY openapi.yaml ./
COPY console ./console
# The application files stay owned by root: the server only reads them.
USER node
EXPOSE 8000
# Node is all the image has, and Node 20 has fetch: no curl or wget needed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node itself receives SIGTERM and shuts down gracefully (never `npm start`).
# The flag is the one `npm start` passes: see "Memory" in docs/operations.md.
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
