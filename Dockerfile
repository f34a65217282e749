# One image for every Convoy service and the convoy CLI. The program is chosen by the command:
#   docker build -t convoy:dev .
#   docker run --rm -e KAFKA_BROKERS=kafka:9092 convoy:dev services/splitter/src/main.ts
#   docker run --rm convoy:dev cli/src/main.ts --help
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step, only a
# production install of the pnpm workspace. Needs the npm registry during the build; where that
# is unreachable, see Dockerfile.prebuilt and docs/containers.md.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
ENV PNPM_HOME=/pnpm COREPACK_ENABLE_DOWNLOAD_PROMPT=0 CI=true
RUN corepack enable
WORKDIR /app
# Dependencies first, from the lockfile alone, so source edits reuse this layer.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches ./patches
RUN pnpm fetch --prod
COPY . .
RUN pnpm install --offline --prod --frozen-lockfile

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root: the service user can read the code but not change it.
COPY --from=deps /app /app
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT || 9464}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node"]
CMD ["-e", "console.error('usage: run this image with a program: services/<name>/src/main.ts or cli/src/main.ts'); process.exit(64)"]
