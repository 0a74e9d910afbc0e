#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages Cardinal builds and tests with
# (docs/design.md section 5). Idempotent: it asks dpkg what is missing and runs
# apt-get (update + install) only when something is.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-14-dev          # libFuzzer + sanitizer runtimes
  libsodium-dev                     # Ed25519, Blake2b
  libssl-dev                        # SHA3-256
  libisal-dev                       # CRC32 (ISA-L)
  zlib1g-dev                        # tests: the reference CRC32
  libcbor-dev                       # CBOR items
  libjansson-dev                    # JSON
  libzstd-dev zstd                  # the compressed mainnet chunk
  libcmocka-dev                     # unit tests
  libuv1-dev libmicrohttpd-dev libncurses-dev   # io driver, metrics, live view
  nodejs                            # tests/interop: a third-party Ouroboros client
  jq                                # system tests: reading the CLI's JSON
  tmux                              # tests: drives cardinal-cli live on a terminal
  python3                           # tests: a hostile metrics page for cardinal-cli live
)
# npm comes with nodejs from NodeSource and separately on Debian; ask for the
# Debian package only when the command is missing.
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
