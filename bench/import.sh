#!/usr/bin/env bash
# Import benchmark: `recert import` of the demo organisation against a RAW bulk insert of the same
# rows (`recert-bench raw-load`), on SQLite and on PostgreSQL, measured in the same run.
#
# Usage, from the repository root:  bench/import.sh [IDENTITIES] [RUNS]   (defaults 100000 and 3)
#
# Environment:
#   RECERT_BENCH_DATABASE_URL  a PostgreSQL URL whose user may create databases
#                              (default postgres://postgres@127.0.0.1:5432/postgres); the
#                              database recert_bench is dropped and created there for every load
#   RECERT_SQLITE_CACHE_MIB    SQLite page cache in MiB for both sides (default 64)
#   CARGO_TARGET_DIR           where cargo builds (default target)
#
# Every timed process runs under /usr/bin/time -v (wall time, CPU time, peak RSS of the client
# process: the PostgreSQL server's own memory and CPU are not counted). Both sides start from a
# freshly created database that `recert migrate` has already migrated, so both time only the
# load; raw-load's own migration step is then a no-op. Results are appended to
# /tmp/recert-bench/results.tsv; logs of each process are kept in /tmp/recert-bench/logs/.
set -euo pipefail

N=${1:-100000}
RUNS=${2:-3}
if ! [[ $N =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/import.sh [IDENTITIES] [RUNS]  (positive integers; defaults 100000 3)" >&2
    exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in /usr/bin/time psql python3 cargo; do
    command -v "$tool" >/dev/null || { echo "bench/import.sh: $tool is required" >&2; exit 1; }
done

DIR=/tmp/recert-bench
LOGS=$DIR/logs
ORG=$DIR/org.json
DB=$DIR/r.db
SQLITE_URL=sqlite://$DB
RESULTS=$DIR/results.tsv
CACHE_MIB=${RECERT_SQLITE_CACHE_MIB:-64}
PG_URL=${RECERT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# The same server and credentials, database recert_bench (any ?query is kept).
PG_QUERY=""
[[ $PG_URL == *\?* ]] && PG_QUERY="?${PG_URL#*\?}"
PG_BASE=${PG_URL%%\?*}
PG_BENCH_URL="${PG_BASE%/*}/recert_bench$PG_QUERY"
[[ ${PG_BASE#*://} == */* ]] || PG_BENCH_URL="$PG_BASE/recert_bench$PG_QUERY"
TARGET=${CARGO_TARGET_DIR:-target}
RECERT=$TARGET/release/recert
BENCH=$TARGET/release/recert-bench
TAG=$(date -u +%Y%m%dT%H%M%SZ)-$$

# Same settings on both sides; nothing else from the caller's recert configuration.
export RECERT_SQLITE_CACHE_MIB=$CACHE_MIB
unset RECERT_CONFIG RECERT_DATABASE_URL
export PGOPTIONS="-c client_min_messages=warning"

mkdir -p "$DIR" "$LOGS"
if [[ ! -f $RESULTS ]]; then
    printf 'tag\tdate_utc\tidentities\trun\tbackend\tmethod\twall_s\tuser_s\tsys_s\tmax_rss_kib\trows\tload_s\tself_total_s\n' >"$RESULTS"
fi

echo "== build" >&2
cargo build --release -p recert -p recert-bench

echo "== demo organisation: $N identities, seed 42 -> $ORG" >&2
"$RECERT" demo --identities "$N" --seed 42 --output "$ORG" | tee "$LOGS/$TAG-demo.txt" >&2

PG_OK=1
if ! PG_VERSION=$(psql "$PG_URL" -qXAt -v ON_ERROR_STOP=1 -c 'SHOW server_version' 2>"$LOGS/$TAG-psql.err"); then
    PG_OK=0
    PG_VERSION="unreachable"
    echo "!! PostgreSQL at $PG_URL is unreachable; PostgreSQL is skipped:" >&2
    cat "$LOGS/$TAG-psql.err" >&2
fi

# timed NAME CMD...: runs CMD under /usr/bin/time -v; stdout, stderr and the time report go to
# $LOGS/$TAG-NAME.{out,err,time}.
timed() {
    local name=$1
    shift
    local base=$LOGS/$TAG-$name
    sync
    if ! /usr/bin/time -v -o "$base.time" "$@" >"$base.out" 2>"$base.err"; then
        echo "!! $name failed: $*" >&2
        cat "$base.err" >&2
        exit 1
    fi
}

# wall user sys max_rss_kib of a time report
time_fields() {
    awk -F': ' '
        /Elapsed \(wall clock\) time/ {
            n = split($2, p, ":"); w = 0
            for (i = 1; i <= n; i++) w = w * 60 + p[i]
        }
        /User time \(seconds\)/ { u = $2 }
        /System time \(seconds\)/ { s = $2 }
        /Maximum resident set size/ { m = $2 }
        END { printf "%.2f\t%s\t%s\t%s", w, u, s, m }
    ' "$1"
}

# record RUN BACKEND METHOD NAME ROWS LOAD_S SELF_TOTAL_S
record() {
    local run=$1 backend=$2 method=$3 name=$4 rows=$5 load=$6 total=$7
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$TAG" "$(date -u +%FT%TZ)" "$N" "$run" \
        "$backend" "$method" "$(time_fields "$LOGS/$TAG-$name.time")" "$rows" "$load" "$total" \
        >>"$RESULTS"
    tail -n 1 "$RESULTS" | cut -f4- >&2
}

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

TABLES="identities sources accounts entitlements access_profiles access_profile_entitlements roles role_access_profiles role_entitlements assignments"
count_sql() {
    local sql="SELECT 0" t
    for t in $TABLES; do sql="$sql + (SELECT count(*) FROM $t)"; done
    echo "$sql"
}
sqlite_rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB" "$(count_sql)"; }
pg_rows() { psql "$PG_BENCH_URL" -qXAt -v ON_ERROR_STOP=1 -c "$(count_sql)"; }

sqlite_fresh() {
    rm -f "$DB" "$DB-wal" "$DB-shm"
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$SQLITE_URL" migrate >/dev/null
}
pg_fresh() {
    psql "$PG_URL" -qX -v ON_ERROR_STOP=1 \
        -c 'DROP DATABASE IF EXISTS recert_bench WITH (FORCE)' -c 'CREATE DATABASE recert_bench'
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$PG_BENCH_URL" migrate >/dev/null
    psql "$PG_URL" -qX -v ON_ERROR_STOP=1 -c 'CHECKPOINT'
}

check_rows() {
    if [[ $1 != "$2" ]]; then
        echo "!! $3: recert import wrote $1 rows in the ten tables, raw-load $2" >&2
    fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS (run backend method wall user sys rss_kib rows load_s self_total_s)" >&2

    sqlite_fresh
    timed "sqlite-import-$run" "$RECERT" --database "$SQLITE_URL" import "$ORG"
    imported=$(sqlite_rows)
    record "$run" sqlite import "sqlite-import-$run" "$imported" "" ""

    sqlite_fresh
    timed "sqlite-raw-$run" "$BENCH" raw-load --database "$SQLITE_URL" --input "$ORG" \
        --cache-mib "$CACHE_MIB"
    out=$LOGS/$TAG-sqlite-raw-$run.out
    raw=$(json_field "$out" rows)
    record "$run" sqlite raw "sqlite-raw-$run" "$raw" "$(json_field "$out" seconds_load)" \
        "$(json_field "$out" seconds_total)"
    check_rows "$imported" "$raw" sqlite

    if [[ $PG_OK == 1 ]]; then
        pg_fresh
        timed "postgres-import-$run" "$RECERT" --database "$PG_BENCH_URL" import "$ORG"
        imported=$(pg_rows)
        record "$run" postgres import "postgres-import-$run" "$imported" "" ""

        pg_fresh
        timed "postgres-raw-$run" "$BENCH" raw-load --database "$PG_BENCH_URL" --input "$ORG"
        out=$LOGS/$TAG-postgres-raw-$run.out
        raw=$(json_field "$out" rows)
        record "$run" postgres raw "postgres-raw-$run" "$raw" \
            "$(json_field "$out" seconds_load)" "$(json_field "$out" seconds_total)"
        check_rows "$imported" "$raw" postgres
    fi
done
rm -f "$DB" "$DB-wal" "$DB-shm"
if [[ $PG_OK == 1 ]]; then
    psql "$PG_URL" -qX -c 'DROP DATABASE IF EXISTS recert_bench WITH (FORCE)' || true
fi

# ---- summary
SQLITE_CRATE=$(awk '/^name = "libsqlite3-sys"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
SQLITE_VERSION=$(grep -ho '#define SQLITE_VERSION  *"[^"]*"' \
    "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libsqlite3-sys-"$SQLITE_CRATE"/sqlite3/sqlite3.h \
    2>/dev/null | head -n 1 | grep -o '[0-9][0-9.]*' || true)
export B_N=$N B_RUNS=$RUNS B_CACHE=$CACHE_MIB B_PG="$PG_VERSION" B_NPROC=$(nproc) \
    B_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    B_LOADAVG="$LOAD_BEFORE before the runs, $(cut -d' ' -f1-3 /proc/loadavg) after" \
    B_KERNEL="$(uname -r)" B_DATE="$(date -u '+%F %T')" B_LOGS=$LOGS \
    B_DATA="$(sed -n 's/^wrote [^ ]* (\(.*\));.*/\1/p' "$LOGS/$TAG-demo.txt"), $(du -h "$ORG" | cut -f1) of JSON" \
    B_SQLITE="${SQLITE_VERSION:-?} (bundled, libsqlite3-sys ${SQLITE_CRATE:-?})"
python3 - "$RESULTS" "$TAG" <<'EOF'
import csv, glob, os, re, statistics, sys

path, tag = sys.argv[1], sys.argv[2]
e = os.environ
rows = [r for r in csv.DictReader(open(path), delimiter="\t") if r["tag"] == tag]

def f(xs):
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})"

def mib(xs):
    return f"{statistics.median(xs) / 1024:.0f} ({min(xs) / 1024:.0f}–{max(xs) / 1024:.0f})"

print()
print(f"## recert import vs raw insert: {e['B_N']} identities, {e['B_RUNS']} run(s)")
print()
print("| | |")
print("|---|---|")
print(f"| date (UTC) | {e['B_DATE']} |")
print(f"| nproc | {e['B_NPROC']} |")
print(f"| CPU (model name) | {e['B_CPU']} |")
print(f"| kernel | {e['B_KERNEL']} |")
print(f"| load average (1, 5, 15 min) | {e['B_LOADAVG']} |")
print(f"| data | {e['B_DATA']} |")
print(f"| SQLite | {e['B_SQLITE']}; cache_size {e['B_CACHE']} MiB on both sides |")
print(f"| PostgreSQL | {e['B_PG']} |")
print(f"| run tag | {tag} (rows in {path}, process logs in {e['B_LOGS']}) |")
print()
print("Median (min–max) over the runs. Wall time and peak RSS come from `/usr/bin/time -v` and cover")
print("the client process from start to exit, reading the JSON file included, on both sides; the")
print("PostgreSQL server's memory is not counted. Both start on a fresh database already migrated by")
print("`recert migrate`. *raw BEGIN–COMMIT* is raw-load's own clock around its one transaction.")
print()
print("| backend | rows | recert import wall (s) | raw insert wall (s) | ratio import/raw | raw BEGIN–COMMIT (s) | recert import peak RSS (MiB) | raw peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for backend in ("sqlite", "postgres"):
    imp = [r for r in rows if r["backend"] == backend and r["method"] == "import"]
    raw = [r for r in rows if r["backend"] == backend and r["method"] == "raw"]
    if not imp or not raw:
        print(f"| {backend} | not run | | | | | | |")
        continue
    iw = [float(r["wall_s"]) for r in imp]
    rw = [float(r["wall_s"]) for r in raw]
    ratio = statistics.median(iw) / statistics.median(rw)
    print(
        f"| {backend} | {int(raw[0]['rows']):,} | {f(iw)} | {f(rw)} | {ratio:.2f} | "
        f"{f([float(r['load_s']) for r in raw])} | "
        f"{mib([float(r['max_rss_kib']) for r in imp])} | {mib([float(r['max_rss_kib']) for r in raw])} |"
    )

# Best effort: recert's own log lines that carry `millis=` (if this build logs its import phases).
phases = {}
for backend in ("sqlite", "postgres"):
    for log in sorted(glob.glob(f"{e['B_LOGS']}/{tag}-{backend}-import-*.err")):
        for line in open(log, errors="replace"):
            line = re.sub(r"\x1b\[[0-9;]*m", "", line)
            m = re.search(r"millis=(\d+)", line)
            if not m:
                continue
            msg = re.search(r"\s(?:INFO|DEBUG|WARN)\s+\S+:\s+(.*?)(?:\s+\w[\w.]*=|$)", line)
            key = (backend, msg.group(1) if msg else "?")
            phases.setdefault(key, []).append(int(m.group(1)))
if phases:
    print()
    print("recert's own log lines with `millis=` (median over the runs; as the log defines them,")
    print("e.g. cumulative from the start of the import):")
    print()
    print("| backend | log message | millis |")
    print("|---|---|---:|")
    for (backend, msg), ms in phases.items():
        print(f"| {backend} | {msg} | {statistics.median(ms):.0f} |")
EOF
