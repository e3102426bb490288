# syntax=docker/dockerfile:1
# One image per jetflow service or worker, from this one Dockerfile:
#
#   docker build --build-arg PACKAGE=@jetflow/dispatcher -t jetflow/dispatcher:0.1.0 .
#   docker build --build-arg PACKAGE=@jetflow/examples --build-arg ENTRY=dist/worker.js -t jetflow/examples:0.1.0 .
#
# scripts/build-images.sh builds them all. The image holds the package's built code, the built
# workspace packages it depends on and their production dependencies, nothing else; it runs one
# Node.js process as an unprivileged user and works with a read-only root filesystem.

ARG NODE_MAJOR=20

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
# The pnpm version package.json pins ("packageManager"), through corepack.
RUN corepack enable
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
ARG PACKAGE
ARG ENTRY=dist/main.js
# `pnpm deploy --prod` copies the package with its workspace dependencies (built above) and only
# its production dependencies; start.js gives every image the same command.
RUN test -n "$PACKAGE" || { echo "set --build-arg PACKAGE, e.g. @jetflow/dispatcher" >&2; exit 1; } \
  && pnpm --filter "$PACKAGE" deploy --prod --legacy /out \
  && test -f "/out/$ENTRY" \
  && rm -rf /out/src /out/test /out/tsconfig.json \
  && cp -r proto /out/proto \
  && printf 'require("./%s");\n' "$ENTRY" > /out/start.js

FROM node:${NODE_MAJOR}-alpine AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app
# The "node" user of the base image; numeric, so that Kubernetes can check runAsNonRoot.
USER 1000:1000
# HEALTH_PORT of the Kubernetes manifests; the api-gateway also serves gRPC on 50051 and the
# HTTP/JSON API with the web console on 8090.
EXPOSE 8080
CMD ["node", "start.js"]
