#!/bin/sh
# Installs the Debian packages tarn needs to build and test, skipping those already present.
# Usage: scripts/install-deps.sh [build|test]   (test adds the oracle's Node.js and clang)
set -eu
pkgs="cmake make gcc pkg-config libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev zlib1g-dev libssl-dev libxxhash-dev libcjson-dev libpg-query-dev libprotobuf-c-dev libedit-dev libroaring-dev libavro-dev"
if [ "${1:-build}" = test ]; then
  pkgs="$pkgs clang libclang-rt-14-dev python3"
  command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
  command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
