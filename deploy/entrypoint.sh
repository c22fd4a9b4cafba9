#!/bin/sh
# Entrypoint of the stasis image (under tini, which reaps the conmons that reparent to pid 1).
# First the host-dependent end of scripts/setup.sh that no image build can do (`setup.sh --image`
# skips it): `criu check`, and the dump probe that decides whether this host's CRIU needs
# CRIU_FAULT=130 (`setup.sh --criu-only`: installs and downloads nothing). Well under a second on a
# host whose debug registers work, about 15 s on one where they do not. Then `stasis "$@"` (the
# image's CMD is `serve`).
# STASIS_CRIU_OPTIONAL=1 starts stasis even when CRIU does not work here (no checkpoints, so no drain
# by checkpoint and no migration); by default the container then refuses to start.
set -eu
criu_failed() {
  printf '%s\n' "$1" >&2
  if [ "${STASIS_CRIU_OPTIONAL:-}" = 1 ]; then
    echo "stasis-entrypoint: CRIU does not work in this container; starting without checkpoints (STASIS_CRIU_OPTIONAL=1)" >&2
  else
    echo "stasis-entrypoint: CRIU does not work in this container (is it privileged?); not starting. STASIS_CRIU_OPTIONAL=1 starts without checkpoints." >&2
    exit 1
  fi
}
if out=$(bash /opt/stasis/scripts/setup.sh --criu-only 2>&1); then
  # One line for the logs: which CRIU, and whether it traces syscalls instead of breakpoints.
  printf '%s\n' "$out" | grep 'CRIU ok' >&2 || true
else
  criu_failed "$out"
fi
exec node /opt/stasis/dist/src/cli/main.js "$@"
