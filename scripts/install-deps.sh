#!/bin/sh
# install-deps.sh: installs the Debian packages Cardinal builds and tests with
# (docs/design.md section 5; README.md "Two commands"). POSIX sh on purpose:
# a minimal Debian 12 has no make yet, so this is the first step, run as
# `sh scripts/install-deps.sh` (make and the compiler come with
# build-essential). Idempotent: it asks dpkg what is missing and runs apt-get
# (update + install) only when something is.
set -eu

# One package a word; comments say what each group is for.
packages="
  build-essential make cmake ninja-build pkg-config git
  clang libclang-rt-14-dev
  libsodium-dev libssl-dev libisal-dev zlib1g-dev
  libcbor-dev libjansson-dev libzstd-dev zstd libcmocka-dev
  libuv1-dev libmicrohttpd-dev libncurses-dev
  nodejs jq tmux python3
"
# clang, libclang-rt-14-dev: libFuzzer and the sanitizer runtimes.
# libsodium (Ed25519, Blake2b), libssl (SHA3-256), libisal (CRC32), zlib
# (tests: the reference CRC32), libcbor, jansson (JSON), zstd (the compressed
# mainnet chunk), cmocka (unit tests), libuv/microhttpd/ncurses (io driver,
# metrics, live view), nodejs (tests/interop), jq (system tests), tmux and
# python3 (tests: cardinal-cli live on a terminal, hostile metrics pages), git
# (the commit --version prints).
# npm comes with nodejs from NodeSource and separately on Debian; ask for the
# Debian package only when the command is missing.
if ! command -v npm >/dev/null 2>&1; then packages="$packages npm"; fi

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "install-deps: installing$missing" >&2
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=sudo; fi
export DEBIAN_FRONTEND=noninteractive
# $missing and $sudo_cmd are split into words on purpose.
# shellcheck disable=SC2086
$sudo_cmd apt-get update -qq
# shellcheck disable=SC2086
$sudo_cmd apt-get install -y -qq --no-install-recommends $missing >&2
