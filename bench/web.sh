#!/usr/bin/env bash
# Web page benchmark: how long the certification page takes for a reviewer with about 10,000
# items, signed in through /login like a browser (curl with a cookie jar), on SQLite.
#
# Usage, from the repository root:  bench/web.sh [IDENTITIES] [REQUESTS]   (default 15000 50)
#
# A demo organisation of IDENTITIES people goes into a fresh SQLite file; the person nobody
# manages is the fallback reviewer, so a MANAGER campaign gives them everyone without a manager
# (about 10,600 items at 15,000 people). That reviewer gets a web password; then REQUESTS
# sequential GETs of each page shape are timed (curl's time_total: the full page, rendered).
# Environment: RECERT_BENCH_NO_BUILD=1 uses target/release/recert as built;
# RECERT_BENCH_DIR (default /tmp/recert-web-bench); RECERT_BENCH_PORT (default 18200).
set -euo pipefail
N=${1:-15000}
REQ=${2:-50}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=${RECERT_BENCH_DIR:-/tmp/recert-web-bench}
PORT=${RECERT_BENCH_PORT:-18200}
BIN=${CARGO_TARGET_DIR:-target}/release/recert
[[ ${RECERT_BENCH_NO_BUILD:-} == 1 ]] || cargo build --release -q -p recert
rm -rf "$DIR" && mkdir -p "$DIR"
DB=sqlite://$DIR/web.db
"$BIN" --database "$DB" demo --identities "$N" --seed 42 >/dev/null 2>&1
TOP=$(python3 - "$DIR/web.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT id FROM identities WHERE manager_id IS NULL AND active = 1 "
                "AND email IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0])
PY
)
ADMIN=$("$BIN" --database "$DB" admin client create --role CERT_ADMIN 2>/dev/null)
CID=$(sed -n 's/^client_id: //p' <<<"$ADMIN"); SECRET=$(sed -n 's/^client_secret: //p' <<<"$ADMIN")
RECERT_RATE_LIMIT_ENABLED=false RECERT_LOG_LEVEL=warn RECERT_CAMPAIGNS_FALLBACK_REVIEWER=$TOP \
  "$BIN" --database "$DB" serve --listen "127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -s -X POST "$BASE/oauth/token" -d grant_type=client_credentials -d "client_id=$CID" \
  -d "client_secret=$SECRET" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
K=$(api -X POST "$BASE/v3/campaigns" -d '{"name":"Web benchmark","description":"x",
  "deadline":"2099-01-01T00:00:00.000Z","type":"MANAGER"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_status() {
  for _ in $(seq 600); do
    s=$(api "$BASE/v3/campaigns/$K" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    [[ $s == "$1" ]] && return 0; sleep 0.5
  done
  echo "campaign never became $1" >&2; exit 1
}
wait_status STAGED
api -X POST "$BASE/v3/campaigns/$K/activate" -d '{"timeZone":"Z"}' >/dev/null
wait_status ACTIVE
read -r CERT ITEMS < <(python3 - "$DIR/web.db" "$TOP" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(*c.execute("SELECT id, decisions_total FROM certifications WHERE reviewer_id = ?",
                 (sys.argv[2],)).fetchone())
PY
)
echo "web.sh: certification $CERT of $ITEMS items (reviewer $TOP)"
PASSWORD=benchmark-password-1
echo "$PASSWORD" | "$BIN" --database "$DB" admin user set-password --identity "$TOP" --password-stdin 2>/dev/null
JAR=$DIR/cookies
LOGIN=$(python3 - "$DIR/web.db" "$TOP" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT email FROM identities WHERE id = ?", (sys.argv[2],)).fetchone()[0])
PY
)
CSRF=$(curl -s -c "$JAR" "$BASE/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" --data-urlencode "csrf=$CSRF" \
  --data-urlencode "login=$LOGIN" --data-urlencode "password=$PASSWORD" "$BASE/login")
[[ $code == 303 ]] || { echo "web.sh: sign-in answered $code" >&2; exit 1; }
measure() {
  local name=$1 path=$2
  for _ in $(seq "$REQ"); do
    curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{time_total}\n' "$BASE$path"
  done | python3 -c '
import sys
rows = [l.split() for l in sys.stdin]
bad = [r for r in rows if r[0] != "200"]
t = sorted(float(r[1]) * 1000 for r in rows)
p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"{sys.argv[1]:<58} n={len(t)} p50={p(0.5):.1f}ms p99={p(0.99):.1f}ms max={t[-1]:.1f}ms non-200={len(bad)}")
' "$name"
}
echo "web.sh: $N identities, $REQ sequential requests per page, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "my reviews" "/reviews"
measure "certification page 1, grouped by person" "/reviews/$CERT"
measure "certification page 1, undecided, by access, then type" "/reviews/$CERT?status=undecided&group=access&sort=type"
measure "certification page 1, search 'a'" "/reviews/$CERT?q=a"
LAST=$(( (ITEMS + 49) / 50 ))
measure "certification last page ($LAST)" "/reviews/$CERT?page=$LAST"
