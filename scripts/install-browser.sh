#!/usr/bin/env bash
# Installs what the browser test needs: Debian's chromium and playwright-core (npm, no bundled browsers).
# Idempotent: does nothing that is already done. Usage: scripts/install-browser.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
browser_dir="$root/tests/browser"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)  # the page's Chinese UI in screenshots
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
chromium --version

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing: install Node.js 18+ (apt-get install -y nodejs npm)" >&2
    exit 1
fi
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
    (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error)
fi
echo "browser test ready: chromium + playwright-core in $browser_dir/node_modules"
