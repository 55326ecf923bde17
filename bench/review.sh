#!/usr/bin/env bash
# Reviewer API benchmark over HTTP: `recert serve` on the demo organisation, measured by
# `recert-bench review` (its own closed-loop HTTP/1.1 load generator) beside a bare axum handler
# answering the same bytes, in the same run.
#
# Usage, from the repository root:  bench/review.sh [IDENTITIES]   (default 100000)
#
# Environment:
#   RECERT_BENCH_BACKENDS      "sqlite postgres" (default), or one of them
#   RECERT_BENCH_DATABASE_URL  a PostgreSQL URL whose user may create databases
#                              (default postgres://postgres@127.0.0.1:5432/postgres); the
#                              database RECERT_BENCH_DB (default recert_review) is dropped and
#                              created there
#   RECERT_BENCH_SEARCH_ITEMS  about how many items the SEARCH certifications get (default 10000)
#   RECERT_BENCH_REVIEW_ARGS   more options for `recert-bench review` (e.g. "--list-samples 500
#                              --decide-runs 200 --concurrency 32 --seconds 10 --rounds 3
#                              --search-campaigns 3"; see `recert-bench review --help`)
#   RECERT_BENCH_PORT          port of the recert server under test (default 18182; the bare
#                              handler listens on 18190)
#   RECERT_BENCH_NO_BUILD=1    use the binaries already built in ${CARGO_TARGET_DIR:-target}
#   RECERT_BENCH_KEEP=1        keep the databases afterwards (to examine query plans); by
#                              default the SQLite file and the PostgreSQL database are removed
#   RECERT_BENCH_DIR           results, logs, the organisation file and the SQLite file
#                              (default /tmp/recert-bench)
#
# Per backend: a fresh database, `recert import` of the demo organisation (`recert demo
# --identities N --seed 42`, written to $DIR/org-N.json unless that file exists; PostgreSQL then
# gets VACUUM ANALYZE), an API client with role CERT_ADMIN, the identity ids for the SEARCH
# campaigns (active identities in id order, excluding the reviewer, until their active grants
# reach RECERT_BENCH_SEARCH_ITEMS), then `recert serve` with RECERT_RATE_LIMIT_ENABLED=false,
# RECERT_LOG_LEVEL=warn and the identity nobody manages as campaigns.fallback_reviewer, and
# `recert-bench review` against it. Every figure is a row of /tmp/recert-bench/review.tsv; a
# summary in Markdown is printed at the end. Logs: $DIR/logs/.
set -euo pipefail

N=${1:-100000}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/review.sh [IDENTITIES]  (a positive integer; default 100000)" >&2
    exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in python3 cargo; do
    command -v "$tool" >/dev/null || { echo "bench/review.sh: $tool is required" >&2; exit 1; }
done

DIR=${RECERT_BENCH_DIR:-/tmp/recert-bench}
LOGS=$DIR/logs
ORG=$DIR/org-$N.json
DB=$DIR/review.db
SQLITE_URL=sqlite://$DB
RESULTS=$DIR/review.tsv
PORT=${RECERT_BENCH_PORT:-18182}
SEARCH_ITEMS=${RECERT_BENCH_SEARCH_ITEMS:-10000}
PG_DB=${RECERT_BENCH_DB:-recert_review}
if ! [[ $PG_DB =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "bench/review.sh: RECERT_BENCH_DB must be a plain lower-case name" >&2
    exit 2
fi
PG_URL=${RECERT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_QUERY=""
[[ $PG_URL == *\?* ]] && PG_QUERY="?${PG_URL#*\?}"
PG_BASE=${PG_URL%%\?*}
PG_BENCH_URL="${PG_BASE%/*}/$PG_DB$PG_QUERY"
[[ ${PG_BASE#*://} == */* ]] || PG_BENCH_URL="$PG_BASE/$PG_DB$PG_QUERY"
TARGET=${CARGO_TARGET_DIR:-target}
RECERT=$TARGET/release/recert
BENCH=$TARGET/release/recert-bench
BACKENDS=${RECERT_BENCH_BACKENDS:-sqlite postgres}
for backend in $BACKENDS; do
    [[ $backend == sqlite || $backend == postgres ]] || {
        echo "bench/review.sh: RECERT_BENCH_BACKENDS holds sqlite and/or postgres, not $backend" >&2
        exit 2
    }
done
read -r -a EXTRA <<<"${RECERT_BENCH_REVIEW_ARGS:-}"
TAG=$(date -u +%Y%m%dT%H%M%SZ)-$$

unset RECERT_CONFIG RECERT_DATABASE_URL
export PGOPTIONS="-c client_min_messages=warning"
mkdir -p "$DIR" "$LOGS"

if [[ ${RECERT_BENCH_NO_BUILD:-} != 1 ]]; then
    echo "== build" >&2
    cargo build --release -p recert -p recert-bench
fi

# The code measured: the working tree may hold uncommitted changes, so name it by HEAD plus a
# digest of the changes (tracked diff and untracked files) as they were when the run started.
CODE_STATE="HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
    DIGEST=$({ git diff HEAD; git ls-files --others --exclude-standard -z | xargs -0 cat 2>/dev/null; } | sha256sum | cut -c1-12)
    CODE_STATE="$CODE_STATE + uncommitted changes (digest $DIGEST)"
fi
CODE_STATE="$CODE_STATE; binaries built $(date -u -r "$RECERT" '+%F %T') UTC"
echo "== code: $CODE_STATE" >&2

if [[ -s $ORG ]]; then
    echo "== demo organisation: reusing $ORG" >&2
else
    echo "== demo organisation: $N identities, seed 42 -> $ORG" >&2
    "$RECERT" demo --identities "$N" --seed 42 --output "$ORG" >&2
fi

# The reviewer of last resort (and of the SEARCH campaigns): the identity nobody manages.
TOP_SQL="SELECT id FROM identities WHERE manager_id IS NULL AND removed_at IS NULL ORDER BY id LIMIT 1"
# Active identities in id order, the reviewer excepted, while their active grants add up to at
# most SEARCH_ITEMS.
search_sql() {
    cat <<EOF
WITH c AS (
    SELECT a.identity_id AS id, count(*) AS n
    FROM assignments a JOIN identities i ON i.id = a.identity_id
    WHERE a.removed_at IS NULL AND i.removed_at IS NULL AND i.active AND i.id <> '$1'
    GROUP BY a.identity_id
), s AS (SELECT id, sum(n) OVER (ORDER BY id) AS cum FROM c)
SELECT id FROM s WHERE cum <= $SEARCH_ITEMS ORDER BY id
EOF
}
sqlite_rows() { python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(r[0])' "$DB" "$1"; }
pg_rows() { psql "$PG_BENCH_URL" -qXAt -v ON_ERROR_STOP=1 -c "$1"; }

SERVER=""
stop_server() {
    if [[ -n $SERVER ]]; then
        kill -TERM "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    fi
}
trap stop_server EXIT

# measure BACKEND URL
measure() {
    local backend=$1 url=$2 rows top created id secret
    if [[ $backend == sqlite ]]; then rows=sqlite_rows; else rows=pg_rows; fi
    echo "== $backend: import" >&2
    local t0=$SECONDS
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$url" import "$ORG" >"$LOGS/$TAG-$backend-import.out" 2>&1
    if [[ $backend == postgres ]]; then
        psql "$PG_BENCH_URL" -qX -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE'
    fi
    echo "   imported in $((SECONDS - t0)) s" >&2
    top=$($rows "$TOP_SQL")
    $rows "$(search_sql "$top")" >"$LOGS/$TAG-$backend-search-ids.txt"
    echo "   reviewer $top; $(wc -l <"$LOGS/$TAG-$backend-search-ids.txt") identities for the SEARCH campaigns" >&2
    created=$(RECERT_LOG_LEVEL=warn "$RECERT" --database "$url" admin client create --role CERT_ADMIN 2>/dev/null)
    id=$(sed -n 's/^client_id: //p' <<<"$created")
    secret=$(sed -n 's/^client_secret: //p' <<<"$created")
    [[ -n $id && -n $secret ]] || { echo "!! no client created: $created" >&2; exit 1; }

    RECERT_LOG_LEVEL=warn RECERT_RATE_LIMIT_ENABLED=false RECERT_CAMPAIGNS_FALLBACK_REVIEWER=$top \
        "$RECERT" --database "$url" serve --listen "127.0.0.1:$PORT" >"$LOGS/$TAG-$backend-serve.log" 2>&1 &
    SERVER=$!
    local ready=0
    for _ in $(seq 1 300); do
        if "$RECERT" healthcheck --url "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
        sleep 0.2
    done
    [[ $ready == 1 ]] || { echo "!! recert serve did not get ready; see $LOGS/$TAG-$backend-serve.log" >&2; exit 1; }

    echo "== $backend: recert-bench review (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$BENCH" review --url "http://127.0.0.1:$PORT" --client-id "$id" --client-secret "$secret" \
        --server-pid "$SERVER" --search-identities "$LOGS/$TAG-$backend-search-ids.txt" \
        --search-reviewer "$top" --results "$RESULTS" --tag "$TAG" --backend "$backend" \
        --identities "$N" "${EXTRA[@]}" 2>&1 | tee "$LOGS/$TAG-$backend-review.txt" >&2
    [[ ${PIPESTATUS[0]} == 0 ]] || { echo "!! recert-bench review failed" >&2; exit 1; }
    stop_server
}

PG_VERSION="not measured"
for backend in $BACKENDS; do
    if [[ $backend == sqlite ]]; then
        rm -f "$DB" "$DB-wal" "$DB-shm"
        measure sqlite "$SQLITE_URL"
        [[ ${RECERT_BENCH_KEEP:-} == 1 ]] || rm -f "$DB" "$DB-wal" "$DB-shm"
    else
        if ! PG_VERSION=$(psql "$PG_URL" -qXAt -v ON_ERROR_STOP=1 -c 'SHOW server_version' 2>"$LOGS/$TAG-psql.err"); then
            PG_VERSION="unreachable"
            echo "!! PostgreSQL at $PG_URL is unreachable; PostgreSQL is skipped:" >&2
            cat "$LOGS/$TAG-psql.err" >&2
            continue
        fi
        psql "$PG_URL" -qX -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
        measure postgres "$PG_BENCH_URL"
        [[ ${RECERT_BENCH_KEEP:-} == 1 ]] ||
            psql "$PG_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true
    fi
done

# ---- summary
export B_N=$N B_PG="$PG_VERSION" B_NPROC=$(nproc) B_DATE="$(date -u '+%F %T')" \
    B_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    B_MEM="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
    B_KERNEL="$(uname -r)" B_RUSTC="$(rustc --version 2>/dev/null || echo '?')" B_CODE="$CODE_STATE"
python3 - "$RESULTS" "$TAG" <<'EOF'
import csv, os, statistics, sys

path, tag = sys.argv[1], sys.argv[2]
e = os.environ
rows = [r for r in csv.DictReader(open(path), delimiter="\t") if r["tag"] == tag]
print()
print(f"## Reviewer API, {int(e['B_N']):,} identities (run {tag})")
print()
print(f"{e['B_DATE']} UTC; nproc {e['B_NPROC']}, {e['B_MEM']}, {e['B_CPU']}, kernel {e['B_KERNEL']};")
print(f"{e['B_RUSTC']}; PostgreSQL {e['B_PG']}. Rows: {path}, tag {tag}.")
print(f"Code: {e['B_CODE']}.")

def num(r, k, fmt="{:,.0f}"):
    return fmt.format(float(r[k])) if r.get(k) else ""

for backend in ("sqlite", "postgres"):
    rs = [r for r in rows if r["backend"] == backend]
    if not rs:
        continue
    print()
    print(f"### {backend}")
    print()
    print("| case | certification items | campaign items | n | p50 (ms) | p99 (ms) | max (ms) | load1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        if "throughput" in r["case"]:
            continue
        if not r["samples"]:
            extra = f"server CPU {r['server_cpu_s']} s" if r["server_cpu_s"] else ""
            print(f"| {r['case']} | {r['cert_items']} | {r['campaign_items']} | | {r['seconds']} s {extra} | | | {r['load1']} |")
            continue
        print(f"| {r['case']} | {r['cert_items']} | {r['campaign_items']} | {r['samples']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['load1']} |")
    print()
    print("| throughput case | requests/s | p50 (ms) | p99 (ms) | errors | client CPU s | server CPU s | PostgreSQL CPU s | body bytes | load1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    med = {}
    for r in rs:
        if "throughput" not in r["case"]:
            continue
        print(f"| {r['case']} | {num(r, 'rps')} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {r['client_cpu_s']} | {r['server_cpu_s']} | {r['postgres_cpu_s']} | {r['body_bytes']} | {r['load1']} |")
        if r["case"].startswith("throughput"):
            med.setdefault(r["case"].split(" (round")[0], []).append(float(r["rps"]))
    med = {k: statistics.median(v) for k, v in med.items()}
    print()
    for k, v in med.items():
        print(f"- median {k}: {v:,.0f} requests/s")
    for what, rec_case in (("get-certification", "throughput get-certification"),
                           ("list-items", "throughput list-items p1")):
        rec = med.get(rec_case)
        bare = med.get(f"throughput bare axum, {what} bytes")
        if rec and bare:
            target = " (target: at least 0.25)" if what == "get-certification" else ""
            print(f"- {what}: recert / bare handler = {rec / bare:.3f}{target}")
    for r in rs:
        if r["case"].startswith("list-items"):
            print(f"- {r['case']}: p99 {float(r['p99_ms']):.2f} ms = {float(r['p99_ms']) / 20:.2f} x the 20 ms target")
        if r["case"].startswith("decide-250"):
            print(f"- {r['case']}: p99 {float(r['p99_ms']):.2f} ms = {float(r['p99_ms']) / 100:.2f} x the 100 ms target")
EOF
