#!/usr/bin/env bash
# Browser tests: drives a running `recert serve` through its web interface in Debian's Chromium
# with the npm package playwright-core (the exact version in package.json / package-lock.json):
#
#   tests/e2e/reviewer.mjs   the reviewer's journey: sign in, filter, decide, reassign, keyboard,
#                            sign off, another reviewer's review refused
#   tests/e2e/admin.mjs      the administrator's journey: create a campaign (a refused form
#                            first), activate it, run a report and download the CSV
#   tests/e2e/lib.mjs        the helpers they use
#
# It installs playwright-core under $RECERT_E2E_DIR (default target/e2e, relative to the
# repository root): package.json + package-lock.json copied to $RECERT_E2E_DIR/node, npm ci
# there (no install scripts, so no browser is ever downloaded). Nothing is installed globally
# or in the source tree; the install is redone only when package.json or the lock file changed.
# Screenshots go to $RECERT_E2E_DIR/screenshots (reviewer-NN-step.png; a failed step leaves
# reviewer-NN-step-FAILED.png).
#
# Needs node (20 or later), npm and Chromium (apt-get install chromium; RECERT_E2E_CHROMIUM
# names another binary, default /usr/bin/chromium).
#
# Environment (all required; crates/recert/tests/browser.rs prepares them):
#   RECERT_E2E_BASE_URL       the server, e.g. http://127.0.0.1:8080
#   RECERT_E2E_LOGIN          the reviewer's email or name
#   RECERT_E2E_PASSWORD       the reviewer's web password:
#                               recert admin user set-password --identity <id> --password-stdin
#   RECERT_E2E_CERT_ID        an ACTIVE certification of the reviewer, nothing decided, at least
#                             4 items, in a campaign with mandatoryCommentRequirement
#                             REVOKE_ONLY_DECISIONS (it is signed off: use a fresh one each run)
#   RECERT_E2E_OTHER_CERT_ID  a certification of another reviewer (only opened)
#   RECERT_E2E_REASSIGN_TO    the email or name of an active identity that may receive an item:
#                             not the reviewer, nobody reviewed in the certification
#   RECERT_E2E_ADMIN_LOGIN    an identity with the CERT_ADMIN web role (email or name)
#   RECERT_E2E_ADMIN_PASSWORD its web password
# Optional: RECERT_E2E_DIR, RECERT_E2E_CHROMIUM.
#
# The journey prints PASS per step; this script exits non-zero when the install or the journey
# fails, saying which.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() {
  echo "run.sh: FAILED: $*" >&2
  exit 1
}

missing=()
for name in RECERT_E2E_BASE_URL RECERT_E2E_LOGIN RECERT_E2E_PASSWORD RECERT_E2E_CERT_ID \
  RECERT_E2E_OTHER_CERT_ID RECERT_E2E_REASSIGN_TO RECERT_E2E_ADMIN_LOGIN RECERT_E2E_ADMIN_PASSWORD; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || fail "environment: not set: ${missing[*]}"

chromium=${RECERT_E2E_CHROMIUM:-/usr/bin/chromium}
[[ -x "$chromium" ]] || fail "Chromium is not installed at $chromium (apt-get install chromium)"
command -v node >/dev/null || fail "node is not installed"
# playwright-core needs node 20 or later (Debian 12's own nodejs package is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]') || fail "node does not run"
((node_major >= 20)) || fail "node $(node --version) is too old: playwright-core needs node 20 or later"

e2e_dir=${RECERT_E2E_DIR:-target/e2e}
mkdir -p "$e2e_dir" || fail "install: cannot create $e2e_dir"
e2e_dir=$(cd "$e2e_dir" && pwd)

# The server is on this machine: keep any proxy settings away from it.
export NO_PROXY="127.0.0.1,localhost,::1${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost,::1${no_proxy:+,$no_proxy}"
# playwright-core never downloads browsers; say so anyway, in case a later version tries.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

install_node() {
  local dir="$e2e_dir/node"
  if [[ -d "$dir/node_modules/playwright-core" ]] && cmp -s "$here/package-lock.json" "$dir/package-lock.json" &&
    cmp -s "$here/package.json" "$dir/package.json"; then
    echo "run.sh: $dir is up to date"
    return 0
  fi
  echo "run.sh: installing package-lock.json into $dir"
  command -v npm >/dev/null || fail "install: npm is not installed"
  mkdir -p "$dir" && cp "$here/package.json" "$here/package-lock.json" "$dir/" || fail "install: copy to $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts) || fail "install: npm ci in $dir"
}
install_node

shots="$e2e_dir/screenshots"
mkdir -p "$shots" || fail "cannot create $shots"
# Screenshots of an earlier run would be mistaken for this one's.
rm -f "$shots"/reviewer-*.png "$shots"/admin-*.png

echo "run.sh: running reviewer.mjs on certification $RECERT_E2E_CERT_ID"
if ! RECERT_E2E_NODE_DIR="$e2e_dir/node" RECERT_E2E_CHROMIUM="$chromium" RECERT_E2E_SCREENSHOTS="$shots" \
  node "$here/reviewer.mjs"; then
  fail "reviewer.mjs (see the FAIL line above; screenshots in $shots)"
fi
echo "run.sh: running admin.mjs"
if ! RECERT_E2E_NODE_DIR="$e2e_dir/node" RECERT_E2E_CHROMIUM="$chromium" RECERT_E2E_SCREENSHOTS="$shots" \
  node "$here/admin.mjs"; then
  fail "admin.mjs (see the FAIL line above; screenshots in $shots)"
fi
echo "run.sh: the browser journeys passed; screenshots in $shots"
