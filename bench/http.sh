#!/usr/bin/env bash
# Per-request cost of authentication and the rate limiter, over real HTTP, measured in one run:
#   GET /healthz          no token: routing, the request log, a fixed JSON body
#   GET /oauth/info       token verified (Ed25519), client read from the store, limiter OFF
#   GET /oauth/info       the same with the limiter ON (a limit it never reaches)
# and the limiter alone (recert-bench limiter). wrk runs beside the server on the same 2 cores,
# as the anchors' bare-handler figures were measured.
#
# The limiter cases alternate, ROUNDS times, so that drift on a shared machine hits both alike.
#
# Usage, from the repository root: bench/http.sh [SECONDS] [ROUNDS]   (default 15 s per case, 3)
set -euo pipefail
SECS=${1:-15}
ROUNDS=${2:-3}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v wrk >/dev/null || { echo "bench/http.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q -p recert -p recert-bench
R=target/release/recert
DIR=/tmp/recert-bench-http
rm -rf "$DIR" && mkdir -p "$DIR"
DB="sqlite://$DIR/r.db"
PORT=18181

$R --database "$DB" demo --identities 1000 >/dev/null
CREATED=$($R --database "$DB" admin client create --role CERT_ADMIN 2>/dev/null)
ID=$(sed -n 's/^client_id: //p' <<<"$CREATED")
SECRET=$(sed -n 's/^client_secret: //p' <<<"$CREATED")

run_case() { # name, limiter on|off, path, with-token
    local name=$1 limiter=$2 path=$3 auth=$4
    RECERT_LOG_LEVEL=warn RECERT_RATE_LIMIT_ENABLED=$limiter RECERT_RATE_LIMIT_REQUESTS=4000000000 \
        $R --database "$DB" serve --listen 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do $R healthcheck --url http://127.0.0.1:$PORT/readyz >/dev/null 2>&1 && break; sleep 0.1; done
    local header=()
    if [ "$auth" = yes ]; then
        local token
        token=$(curl -s -X POST http://127.0.0.1:$PORT/oauth/token -d grant_type=client_credentials \
            -d client_id="$ID" -d client_secret="$SECRET" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
        header=(-H "Authorization: Bearer $token")
    fi
    local out
    out=$(wrk -t2 -c64 -d"${SECS}s" --latency "${header[@]}" "http://127.0.0.1:$PORT$path")
    kill -TERM $pid; wait $pid || true
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "date: $(date -u +%FT%TZ); nproc: $(nproc); cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo
echo "| case | requests/s | p50 | p99 | non-2xx |"
echo "|---|---:|---:|---:|---:|"
run_case "GET /healthz (no auth)" false /healthz no
for round in $(seq 1 "$ROUNDS"); do
    run_case "GET /oauth/info, limiter off (round $round)" false /oauth/info yes
    run_case "GET /oauth/info, limiter on (round $round)" true /oauth/info yes
done
echo
target/release/recert-bench limiter --checks 10000000
