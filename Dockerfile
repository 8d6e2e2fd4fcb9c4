# syntax=docker/dockerfile:1
# Cutover: one image, two roles and one maintenance command (see docs/operations.md).
#   API:        node dist/src/main.api.js        (default command; HTTP on $HTTP_PORT, 3000)
#   worker:     node --max-old-space-size=256 dist/src/main.worker.js
#   migrations: bash scripts/prisma.sh migrate deploy   (the Helm pre-install/pre-upgrade Job)
# Build: docker build -t cutover:$(node -p "require('./package.json').version") .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, Prisma client generated from prisma/schema.prisma, tsc -> dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
# Install scripts stay off: @prisma/engines' postinstall would download native engines that the
# "client" engine type and the WebAssembly schema engine never use (docs: prisma-offline notes).
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY . .
# Non-TypeScript files under src/ (dashboard assets and the like) are kept at their paths.
RUN bash scripts/prisma.sh generate \
 && npm run build \
 && test -f dist/src/main.api.js && test -f dist/src/main.worker.js \
 && mkdir -p .assets && tar -cf - --exclude='*.ts' --exclude='src/generated' src | tar -xf - -C .assets

# ---- production dependencies only
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# `--omit=dev` keeps the Prisma CLI (`prisma`, @prisma/config, @prisma/engines): the lockfile marks
# them devOptional because `prisma` is an optional peer of @prisma/client. The migration Job runs
# that CLI from this same image, so app code and migrations can never be of different versions.
# Fail the build, not a production upgrade, if a lockfile change ever drops it.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && test -f node_modules/prisma/build/index.js \
 && test -d node_modules/@prisma/adapter-pg \
 && npm cache clean --force

# ---- runtime: non-root, no build tools, read-only friendly (only /tmp needs to be writable)
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HTTP_PORT=3000 \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/.assets/src ./src
COPY package.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma.sh ./scripts/prisma.sh
COPY bin ./bin
# uid/gid 1000 is the image's `node` user; numeric so that Kubernetes can verify runAsNonRoot
USER 1000:1000
EXPOSE 3000
CMD ["node", "dist/src/main.api.js"]
