#!/usr/bin/env bash
# SDK compatibility: drives a running `recert serve` through SailPoint's official SDKs, each
# through one complete certification review (tokens, listing and paging, filters and sorters,
# decisions, reassignments, refusals, sign-off, admin reads):
#
#   tests/sdk/python/review_v3.py   PyPI sailpoint==1.4.2  (requirements-v3.txt)  /v3/...
#   tests/sdk/python/review_v1.py   PyPI sailpoint 2.x     (requirements-v1.txt)  /certifications/v1/...
#   tests/sdk/ts/review.mjs         npm sailpoint-api-client (package.json)       /v3/...
#
# It installs the SDKs under $RECERT_SDK_DIR (default target/sdk, relative to the repository
# root): a virtualenv per Python SDK (venv-v3, venv-v1; pip install -r) and a node folder
# (package.json + package-lock.json copied there, npm ci). Nothing is installed globally; an
# install is redone only when its requirements or lock file changed.
#
# Environment (all required):
#   RECERT_SDK_BASE_URL          the server, e.g. http://127.0.0.1:8080
#   RECERT_SDK_ADMIN_ID/_SECRET  an API client with role CERT_ADMIN:
#                                  recert admin client create --role CERT_ADMIN
#   RECERT_SDK_REVIEWER_ID/_SECRET  an API client bound to the reviewer's identity:
#                                  recert admin client create --role USER --identity <reviewer id>
#   RECERT_SDK_OTHER_ID/_SECRET  the same for another reviewer (--identity <other reviewer id>)
#   RECERT_SDK_CERT_IDS          three ids, comma-separated: ACTIVE certifications of the
#                                reviewer, one per program in the order above (review_v3.py,
#                                review_v1.py, review.mjs). Each program signs its own one off,
#                                so every run needs three fresh certifications, each with at least
#                                8 undecided items (~30 is better) over two or more identities.
#   RECERT_SDK_REASSIGN_TO       an active identity that may receive reassigned items: not the
#                                reviewer and not one of the identities reviewed
#   RECERT_SDK_OTHER_CERT_ID     a certification of the other reviewer (only read)
# Optional: RECERT_SDK_DIR, PYTHON (default python3), RECERT_SDK_ONLY (v3, v1 or ts: run one),
#   RECERT_SDK_PAUSE (seconds between programs, default 10). Each program sends about 60
#   requests as the reviewer (more for certifications of hundreds of items); the pause lets
#   the server's per-client rate limit (100 per 10 s by default) refill, since the SDKs do not
#   retry a 429. A server started only for this run may as well run with
#   RECERT_RATE_LIMIT_ENABLED=false.
#
# Each program prints PASS/FAIL per step; this script exits non-zero when an install or a
# program fails, saying which.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() {
  echo "run.sh: FAILED: $*" >&2
  exit 1
}

missing=()
for name in RECERT_SDK_BASE_URL RECERT_SDK_ADMIN_ID RECERT_SDK_ADMIN_SECRET RECERT_SDK_REVIEWER_ID \
  RECERT_SDK_REVIEWER_SECRET RECERT_SDK_OTHER_ID RECERT_SDK_OTHER_SECRET RECERT_SDK_CERT_IDS \
  RECERT_SDK_REASSIGN_TO RECERT_SDK_OTHER_CERT_ID; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || fail "environment: not set: ${missing[*]}"

IFS=',' read -r -a cert_ids <<<"${RECERT_SDK_CERT_IDS// /}"
((${#cert_ids[@]} == 3)) || fail "environment: RECERT_SDK_CERT_IDS needs 3 comma-separated ids, got ${#cert_ids[@]}"
[[ "${cert_ids[0]}" != "${cert_ids[1]}" && "${cert_ids[1]}" != "${cert_ids[2]}" && "${cert_ids[0]}" != "${cert_ids[2]}" ]] ||
  fail "environment: RECERT_SDK_CERT_IDS must name three different certifications"

sdk_dir=${RECERT_SDK_DIR:-target/sdk}
mkdir -p "$sdk_dir" || fail "install: cannot create $sdk_dir"
sdk_dir=$(cd "$sdk_dir" && pwd)
python=${PYTHON:-python3}
only=${RECERT_SDK_ONLY:-}

# The server is on this machine: keep any proxy settings away from it.
export NO_PROXY="127.0.0.1,localhost,::1${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost,::1${no_proxy:+,$no_proxy}"

# install_python NAME REQUIREMENTS: a virtualenv $sdk_dir/venv-NAME with the requirements.
install_python() {
  local venv="$sdk_dir/venv-$1" req="$here/$2"
  if [[ -x "$venv/bin/python" ]] && cmp -s "$req" "$venv/installed-requirements.txt"; then
    echo "run.sh: $venv is up to date"
    return 0
  fi
  echo "run.sh: installing $2 into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" || fail "install: $python -m venv $venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" || fail "install: pip install -r $2"
  cp "$req" "$venv/installed-requirements.txt"
}

install_node() {
  local dir="$sdk_dir/node"
  if [[ -d "$dir/node_modules/sailpoint-api-client" ]] && cmp -s "$here/package-lock.json" "$dir/package-lock.json" &&
    cmp -s "$here/package.json" "$dir/package.json"; then
    echo "run.sh: $dir is up to date"
    return 0
  fi
  echo "run.sh: installing package-lock.json into $dir"
  command -v npm >/dev/null || fail "install: npm is not installed"
  mkdir -p "$dir" && cp "$here/package.json" "$here/package-lock.json" "$dir/" || fail "install: copy to $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts) || fail "install: npm ci in $dir"
}

[[ -z "$only" || "$only" == v3 ]] && install_python v3 requirements-v3.txt
[[ -z "$only" || "$only" == v1 ]] && install_python v1 requirements-v1.txt
[[ -z "$only" || "$only" == ts ]] && install_node

failed=()
ran=0
# run_program NAME CERT_ID COMMAND...: one program against its own certification.
run_program() {
  local name=$1 cert=$2
  shift 2
  if ((ran++ > 0)); then sleep "${RECERT_SDK_PAUSE:-10}"; fi
  echo "run.sh: running $name on certification $cert"
  # The Python SDK reads SAIL_* variables and ./config.json when it is given no base_url; run
  # from a scratch folder without them so nothing else is picked up.
  if ! (cd "$sdk_dir" && env -u SAIL_BASE_URL -u SAIL_CLIENT_ID -u SAIL_CLIENT_SECRET \
    RECERT_SDK_CERT_ID="$cert" RECERT_SDK_NODE_DIR="$sdk_dir/node" "$@"); then
    echo "run.sh: $name FAILED (see the FAIL line above)" >&2
    failed+=("$name")
  fi
}

[[ -z "$only" || "$only" == v3 ]] && run_program review_v3.py "${cert_ids[0]}" "$sdk_dir/venv-v3/bin/python" "$here/python/review_v3.py"
[[ -z "$only" || "$only" == v1 ]] && run_program review_v1.py "${cert_ids[1]}" "$sdk_dir/venv-v1/bin/python" "$here/python/review_v1.py"
[[ -z "$only" || "$only" == ts ]] && run_program review.mjs "${cert_ids[2]}" node "$here/ts/review.mjs"

((${#failed[@]} == 0)) || fail "SDK programs: ${failed[*]}"
echo "run.sh: every SDK program passed"
