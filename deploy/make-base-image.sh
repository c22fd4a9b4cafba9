#!/usr/bin/env bash
# Makes a Debian bookworm + Node.js base image for the stasis Dockerfile on a machine that cannot
# pull node:20-bookworm (no Docker Hub): debootstrap (minbase) from a Debian mirror, plus the
# Node.js >= 20 and npm of this host, laid out as in the official node image (/usr/local/bin).
#
#   deploy/make-base-image.sh --out FILE.tar         write the rootfs tarball (prints how to import it)
#   deploy/make-base-image.sh --tag NAME             import it with podman (or $CONTAINER_ENGINE)
# Options: --mirror URL (default: the host's Debian mirror if it has one, else http://deb.debian.org/debian)
#          --node PATH  (default: the `node` on PATH; its npm is taken from ../lib/node_modules/npm)
#          --cache DIR  keep the debootstrap tree in DIR and reuse it on the next run
# The image trusts the CAs this host added locally (/usr/local/share/ca-certificates/*.crt), so that
# npm reaches the registry from inside the build behind a TLS-intercepting proxy as it does here.
# Then: podman build --build-arg BASE_IMAGE=NAME -t stasis .   Needs root and debootstrap.
set -euo pipefail

OUT="" TAG="" MIRROR="" NODE="" CACHE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    --node) NODE=$2; shift 2 ;;
    --cache) CACHE=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "make-base-image: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$OUT" ] || [ -n "$TAG" ] || { echo "make-base-image: give --out FILE.tar or --tag NAME" >&2; exit 2; }
say() { printf 'make-base-image: %s\n' "$*" >&2; }
command -v debootstrap >/dev/null || { echo "make-base-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

# Node.js: this host's, if it is 20 or newer (the project's engines field).
NODE=${NODE:-$(command -v node || true)}
[ -n "$NODE" ] || { echo "make-base-image: no node on PATH; give --node PATH" >&2; exit 1; }
NODE=$(readlink -f "$NODE")
major=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "make-base-image: $NODE is Node.js $("$NODE" --version); stasis needs >= 20" >&2; exit 1; }
NPM_DIR=$(readlink -f "$(dirname "$NODE")/../lib/node_modules/npm")
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { echo "make-base-image: no npm beside $NODE (looked in $NPM_DIR)" >&2; exit 1; }

# The Debian mirror the host already uses (deb822 sources first, then sources.list), as
# scripts/setup.sh does; not an Ubuntu or other archive, which has no bookworm.
if [ -z "$MIRROR" ]; then
  MIRROR=$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
              grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } \
            | sed 's|/*$||' | grep -E '/debian$' | head -1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
MIRROR=${MIRROR%/}
SECURITY_MIRROR=${MIRROR%/debian}/debian-security

work=$(mktemp -d /tmp/stasis-base.XXXXXX)
# debootstrap mounts /proc and /sys in the tree while it works: unmount whatever is left there
# (an interrupted run) before removing it, and never cross into another filesystem.
cleanup() {
  awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
if [ -n "$CACHE" ] && [ -x "$CACHE/rootfs/usr/bin/apt-get" ]; then
  say "reusing the debootstrap tree in $CACHE"
  cp -a "$CACHE/rootfs" "$work/rootfs"
else
  say "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  if [ -n "$CACHE" ]; then rm -rf "$CACHE/rootfs"; mkdir -p "$CACHE"; cp -a "$work/rootfs" "$CACHE/rootfs"; fi
fi
R=$work/rootfs

# The sources of the official bookworm images (main, updates, security) instead of debootstrap's one line.
rm -f "$R/etc/apt/sources.list"
cat >"$R/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/archives/*.deb

say "adding Node.js $("$NODE" --version) and npm $("$NODE" "$NPM_DIR/bin/npm-cli.js" --version) from $NODE"
mkdir -p "$R/usr/local/bin" "$R/usr/local/lib/node_modules"
cp "$NODE" "$R/usr/local/bin/node"
cp -a "$NPM_DIR" "$R/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin chroot "$R" /usr/local/bin/node -e 'process.exit(0)' || { echo "make-base-image: $NODE does not run on bookworm's libraries" >&2; exit 1; }

# Local CAs: picked up by update-ca-certificates when ca-certificates is installed (apt, skopeo),
# and given to Node.js at once as one bundle (NODE_EXTRA_CA_CERTS, set on import).
EXTRA_CA=""
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$R/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
  cat /usr/local/share/ca-certificates/*.crt >"$R/usr/local/share/ca-certificates/.stasis-extra-ca.pem"
  EXTRA_CA=/usr/local/share/ca-certificates/.stasis-extra-ca.pem
  say "trusting this host's local CAs: $(cd /usr/local/share/ca-certificates && echo *.crt)"
fi

tar -C "$R" --numeric-owner -cf "$work/base.tar" .
changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
[ -z "$EXTRA_CA" ] || changes+=(--change "ENV NODE_EXTRA_CA_CERTS=$EXTRA_CA")
if [ -n "$OUT" ]; then
  mv "$work/base.tar" "$OUT"
  say "wrote $OUT; import it with: podman import$(printf " %q" "${changes[@]}") $OUT NAME"
fi
if [ -n "$TAG" ]; then
  # CONTAINER_ENGINE may carry global flags (word-split on purpose): "podman --root DIR".
  ${CONTAINER_ENGINE:-podman} import "${changes[@]}" "${OUT:-$work/base.tar}" "$TAG" >/dev/null
  say "imported $TAG"
fi
