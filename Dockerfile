# tsconfd container image.
#   docker build -t tsconfd .
#   docker run -v /etc/confd:/etc/confd:ro tsconfd -watch -backend etcdv3 -node http://etcd:2379 -http :8379
# tsconfd and nginx in one container (-exec "nginx -g 'daemon off;'", instead of a sidecar): examples/exec/Dockerfile.
# BASE must be a Debian-like Node 20 image with npm (the build stage runs npm ci, which needs the npm registry,
# and the final stage installs tini from Debian if BASE lacks it). Where neither is reachable,
# scripts/container-base.sh builds a local stand-in for BASE and an npm cache, and shows the offline build command.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed (esbuild's binary comes from its optional dependency) and are not run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
# dist/ is the bundle: every dependency, and etcd's protocol definitions (parsed at build time), are inside it.
RUN npm run build && test -f dist/cli.js

FROM ${BASE}
ENV NODE_ENV=production
# tini as PID 1 reaps what check/reload commands leave behind (Node reaps only its own children) and passes
# SIGTERM on to tsconfd. Installed from Debian unless the base already has it.
RUN command -v tini >/dev/null \
 || { apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*; }
WORKDIR /opt/tsconfd
# No node_modules: the bundle needs none (test/e2e/install/container.test.ts runs -onetime and -watch against etcd with
# this image). package.json stays: its "type": "module" makes Node load dist/*.js as ES modules.
COPY --from=build /src/package.json ./
COPY --from=build /src/dist/ dist/
# `tsconfd` on PATH for `docker exec ... tsconfd -version` and for scripts; the entrypoint calls node directly so
# the image does not depend on the bundle's #! line or on /usr/bin/env. tini -s also reaps when it is not PID 1
# (Kubernetes with shareProcessNamespace, where the pause container is PID 1).
RUN ln -s /opt/tsconfd/dist/cli.js /usr/local/bin/tsconfd && chmod 0755 dist/cli.js \
 && mkdir -p /etc/confd/conf.d /etc/confd/templates
# A numeric uid so Kubernetes' runAsNonRoot can verify it without a passwd entry. To write files owned by another
# user (owner = "nginx") or reload a process of another user by signal, run as that user or grant CAP_CHOWN/CAP_KILL.
USER 10001:10001
# SIGTERM is the graceful stop: the write in progress finishes, no new command starts, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "-s", "--", "node", "/opt/tsconfd/dist/cli.js"]
CMD ["-help"]
