# tsconfd container image.
#   docker build -t tsconfd .
#   docker run --init -v /etc/confd:/etc/confd:ro tsconfd -watch -backend etcdv3 -node http://etcd:2379 -http :9100
# BASE must be a Debian-like Node 20 image with npm (the build stage runs npm ci, which needs the npm registry).
# Where no registry is reachable, scripts/container-base.sh builds a local stand-in:
#   podman build --network=host --build-arg BASE=localhost/tsconfd-base:local -t tsconfd .
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed (esbuild's binary comes from its optional dependency) and are not run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
# dist/ is the bundle (every dependency inside it); proto/ holds etcd3's .proto files, which the bundle reads from
# dist/../proto at run time.
RUN npm run build && test -f dist/cli.js && test -d proto

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /opt/tsconfd
# No node_modules: the bundle needs none (test/e2e/container.test.ts runs -onetime and -watch against etcd with
# this image). package.json stays: its "type": "module" makes Node load dist/*.js as ES modules.
COPY --from=build /src/package.json ./
COPY --from=build /src/proto/ proto/
COPY --from=build /src/dist/ dist/
# `tsconfd` on PATH for `docker exec ... tsconfd -version` and for scripts; the entrypoint calls node directly so
# the image does not depend on the bundle's #! line or on /usr/bin/env.
RUN ln -s /opt/tsconfd/dist/cli.js /usr/local/bin/tsconfd && chmod 0755 dist/cli.js \
 && mkdir -p /etc/confd/conf.d /etc/confd/templates
# A numeric uid so Kubernetes' runAsNonRoot can verify it without a passwd entry. To write files owned by another
# user (owner = "nginx") or reload a process of another user by signal, run as that user or grant CAP_CHOWN/CAP_KILL.
USER 10001:10001
# SIGTERM is the graceful stop: the write in progress finishes, no new command starts, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/tsconfd/dist/cli.js"]
CMD ["-help"]
