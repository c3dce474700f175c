#!/usr/bin/env bash
# Installs the Debian packages yardstick builds against, when any is missing. Safe to re-run.
# --with-browser also installs Debian's chromium, which the HTML report test renders pages in.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libfmt-dev libcli11-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libsqlite3-dev libeigen3-dev
)

if [ "${1:-}" = "--with-browser" ]; then
  packages+=(chromium fonts-dejavu-core)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
