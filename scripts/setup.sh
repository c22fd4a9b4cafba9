#!/usr/bin/env bash
# stasis host set-up: installs what a Debian/Ubuntu host needs to run stasis, idempotently.
#   - runc, conmon, iptables, redis-server, busybox-static, tini (tini-static: every task's init),
#     umoci, skopeo, docker-registry (distribution packages; the registry only for the image
#     tests, its service disabled); gcc + libc6-dev build the tests' static syscall probe
#   - a CRIU 4.x under $STASIS_CRIU_PREFIX (default /opt/stasis/criu) when the distribution's
#     criu fails `criu check`; it is unpacked from Debian trixie debs with a *private* apt
#     configuration and run through its own dynamic loader, so the system's libc and apt
#     sources are never changed.
#   - the npm dependencies and the build (skip with --no-npm).
#   - podman and debootstrap for the image test (test/integration/deploy), with the test packages.
# --image: an image build (the Dockerfile): no test-only packages, no npm, no `criu check` and no
#   dump probe (no build has the privileges, and their answer is the runtime host's).
# --criu-only: a container start (deploy/entrypoint.sh): install nothing, download nothing; check the
#   CRIU that is there, run the dump probe and write the wrapper.
# Prints what it did. Safe to run again.
set -euo pipefail

PREFIX=${STASIS_CRIU_PREFIX:-/opt/stasis/criu}
WRAPPER=${STASIS_CRIU_WRAPPER:-/usr/local/bin/stasis-criu}
DO_NPM=1
MODE=host
for a in "$@"; do
  case "$a" in
    --no-npm) DO_NPM=0 ;;
    --image) MODE=image; DO_NPM=0 ;;
    --criu-only) MODE=criu; DO_NPM=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root (or install sudo)" >&2; exit 1; }
  SUDO=sudo
fi

PKGS=(runc conmon iptables redis-server busybox-static tini umoci skopeo ca-certificates)
# Only for the tests: docker-registry (image tests), gcc + libc6-dev (the seccomp probe), podman +
# debootstrap (the image test), chromium (the dashboard test, headless and offline). Not in the image.
TEST_PKGS=(docker-registry gcc libc6-dev podman debootstrap chromium)
[ "$MODE" = host ] && PKGS+=("${TEST_PKGS[@]}")
missing=()
[ "$MODE" = criu ] && PKGS=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$MODE" = criu ]; then
  :
elif [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "distribution packages present (${PKGS[*]})"
fi
if [ "$MODE" = criu ] && ! [ -x "$PREFIX/usr/sbin/criu" ] && ! command -v criu >/dev/null; then
  echo "setup: --criu-only: no CRIU installed (neither criu on PATH nor $PREFIX)" >&2; exit 1
fi
# docker-registry is only for the image tests, which start their own on 127.0.0.1: never leave the
# packaged service (all interfaces, port 5000) enabled on a node.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# --- CRIU --------------------------------------------------------------------------------------
# The wrapper is always a small script: it picks the CRIU binary (the distribution's when it passes
# `criu check` and is 4.x, else the trixie unpack below) and, on hosts where CRIU's x86 hardware
# breakpoints never fire (some VMs: a dump hangs in wait4 after "new_sp=… ip …"), makes CRIU stop
# its parasite by syscall tracing instead (CRIU_FAULT=130, CRIU's own "no breakpoints" path).
criu_ok() { "$@" check >/dev/null 2>&1; }
write_wrapper() { # $1 = the exec line's command words (already quoted), $2 = extra env lines
  $SUDO tee "$WRAPPER" >/dev/null <<WRAP
#!/bin/sh
# CRIU 4.x for stasis, written by scripts/setup.sh.
$2
exec $1 "\$@"
WRAP
  $SUDO chmod 755 "$WRAPPER"
}
# Dumps a sleeping process with a 15 s limit; prints "ok" or "hang".
probe_breakpoints() {
  local dir pid rc
  dir=$(mktemp -d /tmp/stasis-criu-probe.XXXXXX)
  setsid sleep 300 </dev/null >/dev/null 2>&1 &
  pid=$!
  sleep 0.2
  rc=0; timeout -s KILL 15 "$WRAPPER" dump -t "$pid" -D "$dir" -o dump.log --shell-job --leave-running >/dev/null 2>&1 || rc=$?
  kill -9 "$pid" 2>/dev/null || true
  rm -rf "$dir"
  if [ "$rc" = 137 ]; then echo hang; else echo ok; fi
}

if [ "$MODE" = image ] && [ -x "$PREFIX/usr/sbin/criu" ]; then
  say "CRIU 4.x already unpacked in $PREFIX (not checked: image build)"
  CRIU_EXEC="\"$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\" --library-path \"$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu\" \"$PREFIX/usr/sbin/criu\""
elif command -v criu >/dev/null && criu_ok "$(command -v criu)" && criu --version | grep -q 'Version: [4-9]'; then
  say "system criu passes 'criu check'; using it"
  CRIU_EXEC="\"$(command -v criu)\""
elif [ -x "$PREFIX/usr/sbin/criu" ] && criu_ok "$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu" "$PREFIX/usr/sbin/criu"; then
  say "CRIU 4.x already unpacked in $PREFIX"
  CRIU_EXEC="\"$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\" --library-path \"$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu\" \"$PREFIX/usr/sbin/criu\""
elif [ "$MODE" = criu ]; then
  echo "setup: --criu-only: CRIU fails 'criu check' here:" >&2
  { [ -x "$PREFIX/usr/sbin/criu" ] && "$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu" "$PREFIX/usr/sbin/criu" check; } >&2 || true
  exit 1
else
  say "distribution criu missing or failing 'criu check'; unpacking CRIU 4.x from trixie into $PREFIX"
  work=$(mktemp -d /tmp/stasis-criu.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/parts" "$work/debs"
  # The mirror the system already uses, with the suite swapped for trixie (private config only).
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  fi
  [ -n "$mirror" ] || { echo "setup: cannot find a Debian mirror in /etc/apt" >&2; exit 1; }
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "deb [signed-by=$keyring] $mirror trixie main" > "$work/sources.list"
  APT=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
       -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
       -o "Dir::State::Status=/dev/null" -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  apt-get "${APT[@]}" update -qq
  debs=(criu libcompel1 libc6 libgnutls30t64 libnftables1 libprotobuf-c1 libnl-3-200 libnet1 libbsd0
        libuuid1 libnftnl11 libmnl0 libjansson4 libxtables12 libidn2-0 libunistring5 libtasn1-6
        libnettle8t64 libhogweed6t64 libgmp10 libp11-kit0 libffi8 libmd0 libedit2 libbpf1 libelf1t64
        libzstd1 zlib1g libtinfo6)
  (cd "$work/debs" && apt-get "${APT[@]}" download "${debs[@]}" >/dev/null)
  $SUDO rm -rf "$PREFIX.new"; $SUDO mkdir -p "$PREFIX.new"
  for d in "$work"/debs/*.deb; do $SUDO dpkg -x "$d" "$PREFIX.new"; done
  $SUDO rm -rf "$PREFIX"; $SUDO mv "$PREFIX.new" "$PREFIX"
  CRIU_EXEC="\"$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\" --library-path \"$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu\" \"$PREFIX/usr/sbin/criu\""
fi
[ -L "$WRAPPER" ] && $SUDO rm -f "$WRAPPER"
write_wrapper "$CRIU_EXEC" ""
if [ "$MODE" = image ]; then
  say "CRIU: $WRAPPER ($("$WRAPPER" --version | head -1)); its check and dump probe run at container start (--criu-only)"
  say "done (image)"; exit 0
fi
criu_ok "$WRAPPER" || { echo "setup: $WRAPPER check failed:" >&2; "$WRAPPER" check >&2 || true; exit 1; }
if [ "$(probe_breakpoints)" = hang ]; then
  write_wrapper "$CRIU_EXEC" "# A dump hung on this host (CPU debug registers do not trigger): stop the parasite by syscall tracing.
export CRIU_FAULT=130"
  if [ "$(probe_breakpoints)" = hang ]; then echo "setup: CRIU dumps hang on this host even without breakpoints" >&2; exit 1; fi
  say "CRIU ok: $WRAPPER ($("$WRAPPER" --version | head -1); hardware breakpoints do not fire here, using syscall tracing)"
else
  say "CRIU ok: $WRAPPER ($("$WRAPPER" --version | head -1))"
fi

[ "$MODE" = criu ] && exit 0

# --- cgroups -------------------------------------------------------------------------------------
# Every task's cgroup is /stasis/<state-dir tag>+<namespace>+<id> under each controller; the shared
# parent is made here once, so running tasks (and tests) leave the hierarchy as they found it.
for c in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  [ -e "$c/cgroup.procs" ] && $SUDO mkdir -p "$c/stasis" 2>/dev/null || true
done

# --- npm ---------------------------------------------------------------------------------------
if [ "$DO_NPM" = 1 ]; then
  cd "$(dirname "$0")/.."
  # `npm install` (not `npm ci`): it honours the lock file, and unlike `npm ci` it accepts the
  # optional per-platform packages of node-unix-socket that the registry does not publish.
  say "npm install"; npm install --no-audit --no-fund --loglevel=error
  say "npm run build"; npm run build --silent
fi
say "done. Check the host with: npx stasis doctor"
