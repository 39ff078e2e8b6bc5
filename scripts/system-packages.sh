#!/usr/bin/env bash
# Makes sure the Debian packages the app needs are present.
# As root it installs what is missing; otherwise it names the one command to run and stops.
#   scripts/system-packages.sh run    packages to serve the app and render invoices
#   scripts/system-packages.sh test   the same, plus Chromium for the browser tests and Redis for
#                                     the queue and rate-limit tests on Redis
set -euo pipefail

mode=${1:-run}
# libharfbuzz-subset0: WeasyPrint subsets fonts with it (falling back to fontTools is ~4x slower).
# fonts-liberation2: Arial-metric fonts for the invoice PDFs.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 python3-venv)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if [ "$mode" = "test" ]; then
  packages+=(chromium redis-server)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian system: install Pango, HarfBuzz's subset library, Node.js with npm and (for tests) Chromium yourself." >&2
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Please install the missing system packages first: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "Could not install ${missing[*]} with apt-get; install them and run make again." >&2
  exit 1
fi
