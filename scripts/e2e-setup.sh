#!/usr/bin/env bash
# Installs what the end-to-end tests need to run the extension in a real VS Code, offline:
# Debian's chromium, ripgrep and kerberos headers; code-server 4.100.3 (VS Code 1.100.3) and
# playwright-core from the npm registry, in a cache folder outside the repository's
# node_modules. Idempotent: a second run checks and returns in a second or two.
#
#   NAS_E2E_CACHE   cache folder (default: $HOME/.cache/nas-studio-e2e)
#
# The tests find the cache through the same variable (test/e2e/harness.ts).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
CACHE="${NAS_E2E_CACHE:-$HOME/.cache/nas-studio-e2e}"
STAMP="$CACHE/.setup-done-$CODE_SERVER_VERSION-pw$PLAYWRIGHT_VERSION"
START=$(date +%s)

step() { printf '\n[e2e-setup] %s\n' "$*"; }
fail() {
  printf '\n[e2e-setup] FAILED: %s\n' "$*" >&2
  printf '[e2e-setup] Nothing is half-marked as done; fix the cause and run the script again (it resumes).\n' >&2
  exit 1
}
trap 'fail "command on line $LINENO exited with status $? (see the output above)"' ERR

# npm warns about user config it does not know; keep the output readable.
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# 1. Debian packages --------------------------------------------------------------------
missing=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      fail "missing Debian packages (${missing[*]}) and not root: run 'apt-get install -y ${missing[*]}' as root"
    fi
  else SUDO=; fi
  $SUDO apt-get update -qq || fail "apt-get update failed (is Debian's mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]} failed"
fi
[ -x /usr/bin/rg ] || fail "/usr/bin/rg is missing after installing ripgrep"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing after installing chromium"

if [ -f "$STAMP" ] && [ -f "$CACHE/node_modules/code-server/out/node/entry.js" ] \
   && [ -d "$CACHE/node_modules/playwright-core" ]; then
  echo "[e2e-setup] already set up in $CACHE ($(( $(date +%s) - START ))s)"
  exit 0
fi

# 2. code-server and playwright-core into the cache ----------------------------------------
mkdir -p "$CACHE"
cd "$CACHE"
[ -f package.json ] || echo '{ "name": "nas-studio-e2e-cache", "private": true }' > package.json
CS="$CACHE/node_modules/code-server"
if [ "$(node -p "try{require('$CS/package.json').version}catch{''}")" != "$CODE_SERVER_VERSION" ] \
   || [ "$(node -p "try{require('$CACHE/node_modules/playwright-core/package.json').version}catch{''}")" != "$PLAYWRIGHT_VERSION" ]; then
  step "npm install --ignore-scripts code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION (in $CACHE)"
  npm install --ignore-scripts --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" \
    || fail "npm install of code-server/playwright-core failed"
fi

# 3. argon2 (code-server's password hashing; loaded at start even with --auth none)
step "npm rebuild argon2"
npm rebuild argon2 --loglevel=error || fail "npm rebuild argon2 failed (libkrb5-dev, python3, make, g++ needed)"

# 4. VS Code's own dependencies, with the system ripgrep
VS="$CS/lib/vscode"
cd "$VS"
step "lib/vscode: npm install --ignore-scripts --omit=dev"
npm install --ignore-scripts --omit=dev --loglevel=error || fail "npm install in $VS failed"
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sfn /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
step "lib/vscode: npm rebuild (native modules: node-pty, spdlog, watcher, ...)"
npm_config_yes=true npm rebuild --loglevel=error || fail "npm rebuild in $VS failed"

# 5. what code-server's own postinstall would do
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh

# 6. the built-in extensions' dependencies
cd "$VS/extensions"
step "lib/vscode/extensions: npm install --ignore-scripts --omit=dev && npm rebuild"
npm install --ignore-scripts --omit=dev --loglevel=error || fail "npm install in $VS/extensions failed"
npm rebuild --loglevel=error || fail "npm rebuild in $VS/extensions failed"

# 7. a smoke check: the server prints its version
node "$CS/out/node/entry.js" --version >/dev/null 2>&1 || fail "code-server does not start: node $CS/out/node/entry.js --version"

rm -f "$CACHE"/.setup-done-*
touch "$STAMP"
echo "[e2e-setup] done in $(( $(date +%s) - START ))s: code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION in $CACHE"
