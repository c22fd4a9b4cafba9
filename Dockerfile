# The stasis runner image: `docker run --privileged IMAGE` is `stasis serve` (docs/deploy.md).
#
# BASE_IMAGE must be Debian bookworm with Node.js >= 20 and npm on PATH. The default is the official
# node image; where Docker Hub cannot be reached, make a local one first with
# deploy/make-base-image.sh (debootstrap + this host's Node.js) and pass its name:
#   podman build --build-arg BASE_IMAGE=localhost/stasis-base:bookworm -t stasis .
ARG BASE_IMAGE=node:20-bookworm

# --- build: the TypeScript compile, with the dev dependencies -----------------------------------
FROM ${BASE_IMAGE} AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /opt/stasis
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: see scripts/setup.sh (node-unix-socket's optional platform packages).
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY src src
# (bench/ stays out: it is not part of the runner and imports test helpers.)
COPY workers workers
# The addons (native/*.c: mount(2), the sealed runc copy, posix_spawn); without a C compiler in
# BASE_IMAGE the node mounts with busybox, conmon runs runc from its own path and spawns fork Node.
COPY scripts/build-native.sh scripts/
COPY native/*.c native/*.h native/
RUN npm run build --silent

# --- the runner -----------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
RUN node -e 'const [maj] = process.versions.node.split("."); if (+maj < 20) { console.error(`stasis needs Node.js >= 20; BASE_IMAGE has ${process.version}`); process.exit(1); }'
# runc, conmon, iptables, redis-server, busybox, tini, umoci, skopeo and CRIU 4.x (with its wrapper
# /usr/local/bin/stasis-criu): scripts/setup.sh --image, all but its host checks (they run at start).
COPY scripts/setup.sh /opt/stasis/scripts/setup.sh
COPY deploy/entrypoint.sh /opt/stasis/deploy/
RUN bash /opt/stasis/scripts/setup.sh --image && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/stasis
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund --loglevel=error && rm -rf /root/.npm
COPY --from=build /opt/stasis/dist ./dist
COPY --from=build /opt/stasis/native/build ./native/build
# `stasis …` for `docker compose exec node-a stasis doctor` and the like.
RUN chmod 755 dist/src/cli/main.js && ln -s /opt/stasis/dist/src/cli/main.js /usr/local/bin/stasis
# The state dir (task overlays, tmpfs mounts, runc state, logs, the embedded Redis) must never be
# the container's own overlayfs: without a volume given, the engine makes an anonymous one.
VOLUME /var/lib/stasis
ENV STASIS_STATE_DIR=/var/lib/stasis
# tini as pid 1 reaps the conmons that reparent to it and passes SIGTERM on to node (the drain).
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/stasis/deploy/entrypoint.sh"]
CMD ["serve"]
