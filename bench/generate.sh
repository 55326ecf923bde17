#!/usr/bin/env bash
# Campaign generation benchmark: a MANAGER campaign over the demo organisation
# (`recert-bench generate`, the generation job run as recert's job runner runs it) against a RAW
# bulk insert of the same number of review items (`recert-bench raw-items`), on SQLite and on
# PostgreSQL, measured in the same run.
#
# Usage, from the repository root:  bench/generate.sh [IDENTITIES] [RUNS]   (defaults 100000 and 3)
#
# Environment:
#   RECERT_BENCH_DATABASE_URL  a PostgreSQL URL whose user may create databases
#                              (default postgres://postgres@127.0.0.1:5432/postgres); the
#                              database RECERT_BENCH_DB is dropped and created there for every step
#   RECERT_SQLITE_CACHE_MIB    SQLite page cache in MiB for both sides (default 64)
#   CARGO_TARGET_DIR           where cargo builds (default target)
#   RECERT_BENCH_NO_BUILD=1    use the binaries already built there
#   RECERT_BENCH_DIR           results, logs and the SQLite file (default /tmp/recert-bench)
#   RECERT_BENCH_DB            the PostgreSQL database to recreate (default recert_bench)
#   RECERT_BENCH_BACKENDS      which backends to measure: "sqlite postgres" (default), or one
#
# Per run and backend: a fresh database, `recert migrate` and `recert import` of the demo
# organisation (not timed; on PostgreSQL followed by VACUUM ANALYZE), then `recert-bench generate` under /usr/bin/time -v; then
# another fresh, migrated database and `recert-bench raw-items --rows <items generated>` under
# /usr/bin/time -v. Wall time and peak RSS are the client process's; while PostgreSQL generates,
# the private memory (RssAnon) of all PostgreSQL server processes together is sampled too, when
# the server runs on this machine and its /proc is readable. Results are appended to
# /tmp/recert-bench/generate.tsv; logs of each process are kept in /tmp/recert-bench/logs/.
set -euo pipefail

N=${1:-100000}
RUNS=${2:-3}
if ! [[ $N =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/generate.sh [IDENTITIES] [RUNS]  (positive integers; defaults 100000 3)" >&2
    exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in /usr/bin/time psql python3 cargo; do
    command -v "$tool" >/dev/null || { echo "bench/generate.sh: $tool is required" >&2; exit 1; }
done

DIR=${RECERT_BENCH_DIR:-/tmp/recert-bench}
PG_DB=${RECERT_BENCH_DB:-recert_bench}
if ! [[ $PG_DB =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "bench/generate.sh: RECERT_BENCH_DB must be a plain lower-case name" >&2
    exit 2
fi
LOGS=$DIR/logs
ORG=$DIR/org-$N.json
DB=$DIR/g.db
SQLITE_URL=sqlite://$DB
RESULTS=$DIR/generate.tsv
CACHE_MIB=${RECERT_SQLITE_CACHE_MIB:-64}
PG_URL=${RECERT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# The same server and credentials, database $PG_DB (any ?query is kept).
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
        echo "bench/generate.sh: RECERT_BENCH_BACKENDS holds sqlite and/or postgres, not $backend" >&2
        exit 2
    }
done
TAG=$(date -u +%Y%m%dT%H%M%SZ)-$$

# Same settings on both sides; nothing else from the caller's recert configuration.
export RECERT_SQLITE_CACHE_MIB=$CACHE_MIB
unset RECERT_CONFIG RECERT_DATABASE_URL
export PGOPTIONS="-c client_min_messages=warning"

mkdir -p "$DIR" "$LOGS"
if [[ ! -f $RESULTS ]]; then
    printf 'tag\tdate_utc\tidentities\trun\tbackend\tmethod\twall_s\tuser_s\tsys_s\tmax_rss_kib\trows\tself_s\tcertifications\tsubjects\tjob_peak_rss_mib\tserver_peak_anon_kib\n' >"$RESULTS"
fi

if [[ ${RECERT_BENCH_NO_BUILD:-} != 1 ]]; then
    echo "== build" >&2
    cargo build --release -p recert -p recert-bench
fi

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

# json_field FILE KEY: a field of the one line of JSON in FILE ("" when null)
json_field() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

# record RUN BACKEND METHOD NAME ROWS SELF_S CERTS SUBJECTS JOB_PEAK_MIB SERVER_PEAK_KIB
record() {
    local run=$1 backend=$2 method=$3 name=$4
    shift 4
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$TAG" "$(date -u +%FT%TZ)" \
        "$N" "$run" "$backend" "$method" "$(time_fields "$LOGS/$TAG-$name.time")" "$@" \
        >>"$RESULTS"
    tail -n 1 "$RESULTS" | cut -f4- >&2
}

sqlite_fresh() {
    rm -f "$DB" "$DB-wal" "$DB-shm"
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$SQLITE_URL" migrate >/dev/null
}
pg_fresh() {
    psql "$PG_URL" -qX -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$PG_BENCH_URL" migrate >/dev/null
    psql "$PG_URL" -qX -v ON_ERROR_STOP=1 -c 'CHECKPOINT'
}

# The reviewer of last resort: the identity nobody manages. Read here and passed as an id, so
# that `generate --fallback-reviewer auto` (which reads every identity) does not weigh on the
# benchmark process's memory.
TOP_SQL="SELECT id FROM identities WHERE manager_id IS NULL AND removed_at IS NULL ORDER BY id LIMIT 1"
sqlite_sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB" "$1"; }
pg_sql() { psql "$PG_BENCH_URL" -qXAt -v ON_ERROR_STOP=1 -c "$1"; }

# Untimed: the organisation, imported by recert itself. On PostgreSQL, then the statistics
# autovacuum would have gathered by the time anyone creates a campaign; SQLite gets none, as
# recert never runs ANALYZE there.
sqlite_org() {
    sqlite_fresh
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$SQLITE_URL" import "$ORG" \
        >"$LOGS/$TAG-sqlite-import-$1.out" 2>&1
}
pg_org() {
    pg_fresh
    RECERT_LOG_LEVEL=warn "$RECERT" --database "$PG_BENCH_URL" import "$ORG" \
        >"$LOGS/$TAG-postgres-import-$1.out" 2>&1
    psql "$PG_BENCH_URL" -qX -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE'
    psql "$PG_URL" -qX -v ON_ERROR_STOP=1 -c 'CHECKPOINT'
}

# Samples, every 0.2 s until stopped, the private memory (RssAnon, KiB) of all postgres
# processes on this machine together (the backend that generates, its parallel workers, and
# the server's own processes), and writes the largest sum seen to $1 on exit.
pg_mem_sampler() {
    python3 - "$1" <<'EOF' &
import glob, signal, sys, time
out, peak, running = sys.argv[1], 0, True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
while running:
    total = 0
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            text = open(status).read()
        except OSError:
            continue
        if not text.startswith("Name:\tpostgres"):
            continue
        for line in text.splitlines():
            if line.startswith("RssAnon:"):
                total += int(line.split()[1])
    peak = max(peak, total)
    time.sleep(0.2)
open(out, "w").write(str(peak))
EOF
    SAMPLER=$!
}
pg_mem_stop() {
    kill -TERM "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
}

# generate_and_raw RUN BACKEND URL FALLBACK: the timed pair
generate_and_raw() {
    local run=$1 backend=$2 url=$3 top=$4 out peak=""
    if [[ $backend == postgres ]]; then
        pg_mem_sampler "$LOGS/$TAG-$backend-generate-$run.pgmem"
    fi
    timed "$backend-generate-$run" "$BENCH" generate --database "$url" --identities "$N" \
        --fallback-reviewer "$top" --cache-mib "$CACHE_MIB"
    if [[ $backend == postgres ]]; then
        pg_mem_stop
        peak=$(cat "$LOGS/$TAG-$backend-generate-$run.pgmem" 2>/dev/null || true)
    fi
    out=$LOGS/$TAG-$backend-generate-$run.out
    local items certs subjects
    items=$(json_field "$out" items)
    certs=$(json_field "$out" certifications)
    subjects=$(json_field "$out" subjects)
    record "$run" "$backend" generate "$backend-generate-$run" "$items" \
        "$(json_field "$out" seconds_generate)" "$certs" "$subjects" \
        "$(json_field "$out" rss_peak_job_mib)" "$peak"

    if [[ $backend == postgres ]]; then pg_fresh; else sqlite_fresh; fi
    timed "$backend-raw-$run" "$BENCH" raw-items --database "$url" --rows "$items" \
        --certifications "$certs" --subjects "$subjects" --cache-mib "$CACHE_MIB"
    out=$LOGS/$TAG-$backend-raw-$run.out
    record "$run" "$backend" raw "$backend-raw-$run" "$(json_field "$out" rows)" \
        "$(json_field "$out" seconds_load)" "$certs" "$subjects" "" ""
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS (run backend method wall user sys rss_kib rows self_s certs subjects job_peak_mib server_peak_kib)" >&2

    if [[ " $BACKENDS " == *" sqlite "* ]]; then
        sqlite_org "$run"
        generate_and_raw "$run" sqlite "$SQLITE_URL" "$(sqlite_sql "$TOP_SQL")"
    fi

    if [[ $PG_OK == 1 && " $BACKENDS " == *" postgres "* ]]; then
        pg_org "$run"
        generate_and_raw "$run" postgres "$PG_BENCH_URL" "$(pg_sql "$TOP_SQL")"
    fi
done
rm -f "$DB" "$DB-wal" "$DB-shm"
if [[ $PG_OK == 1 ]]; then
    psql "$PG_URL" -qX -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true
fi

# ---- summary
SQLITE_CRATE=$(awk '/^name = "libsqlite3-sys"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
SQLITE_VERSION=$(grep -ho '#define SQLITE_VERSION  *"[^"]*"' \
    "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libsqlite3-sys-"$SQLITE_CRATE"/sqlite3/sqlite3.h \
    2>/dev/null | head -n 1 | grep -o '[0-9][0-9.]*' || true)
export B_N=$N B_RUNS=$RUNS B_CACHE=$CACHE_MIB B_PG="$PG_VERSION" B_NPROC=$(nproc) \
    B_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    B_MEM="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
    B_LOADAVG="$LOAD_BEFORE before the runs, $(cut -d' ' -f1-3 /proc/loadavg) after" \
    B_KERNEL="$(uname -r)" B_DATE="$(date -u '+%F %T')" B_LOGS=$LOGS \
    B_DATA="$(sed -n 's/^wrote [^ ]* (\(.*\));.*/\1/p' "$LOGS/$TAG-demo.txt")" \
    B_SQLITE="${SQLITE_VERSION:-?} (bundled, libsqlite3-sys ${SQLITE_CRATE:-?})"
python3 - "$RESULTS" "$TAG" <<'EOF'
import csv, os, statistics, sys

path, tag = sys.argv[1], sys.argv[2]
e = os.environ
rows = [r for r in csv.DictReader(open(path), delimiter="\t") if r["tag"] == tag]

def med(rs, key):
    xs = [float(r[key]) for r in rs if r[key] != ""]
    return statistics.median(xs) if xs else None

def f(rs, key, scale=1.0, digits=2):
    xs = [float(r[key]) / scale for r in rs if r[key] != ""]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.median(xs):.{digits}f} ({min(xs):.{digits}f}–{max(xs):.{digits}f})"

print()
print(f"## Campaign generation vs raw insert: MANAGER campaign, {e['B_N']} identities, {e['B_RUNS']} run(s)")
print()
print("| | |")
print("|---|---|")
print(f"| date (UTC) | {e['B_DATE']} |")
print(f"| nproc, memory | {e['B_NPROC']}, {e['B_MEM']} |")
print(f"| CPU (model name) | {e['B_CPU']} |")
print(f"| kernel | {e['B_KERNEL']} |")
print(f"| load average (1, 5, 15 min) | {e['B_LOADAVG']} |")
print(f"| data | {e['B_DATA']} |")
print(f"| SQLite | {e['B_SQLITE']}; cache_size {e['B_CACHE']} MiB on both sides |")
print(f"| PostgreSQL | {e['B_PG']} |")
print(f"| run tag | {tag} (rows in {path}, process logs in {e['B_LOGS']}) |")
print()
print("Median (min–max) over the runs. *generate* is the job alone (claim to recorded outcome),")
print("*raw* is raw-items' BEGIN to COMMIT; *wall* is the whole process under `/usr/bin/time -v`.")
print("Peak RSS is the client process's; *PG server* is the largest sum of the private RSS")
print("(RssAnon) of all PostgreSQL processes, sampled every 0.2 s while generating.")
print()
print("| backend | items | certifications | generate (s) | items/s | raw insert (s) | ratio generate/raw | generate wall (s) | raw wall (s) | generate peak RSS (MiB) | raw peak RSS (MiB) | PG server peak (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for backend in ("sqlite", "postgres"):
    gen = [r for r in rows if r["backend"] == backend and r["method"] == "generate"]
    raw = [r for r in rows if r["backend"] == backend and r["method"] == "raw"]
    if not gen or not raw:
        print(f"| {backend} | not run | | | | | | | | | | |")
        continue
    items = int(gen[0]["rows"])
    g, rw = med(gen, "self_s"), med(raw, "self_s")
    server = f(gen, "server_peak_anon_kib", 1024, 0) if backend == "postgres" else "–"
    print(
        f"| {backend} | {items:,} | {int(gen[0]['certifications']):,} | {f(gen, 'self_s')} | "
        f"{items / g:,.0f} | {f(raw, 'self_s')} | {g / rw:.2f} | {f(gen, 'wall_s')} | "
        f"{f(raw, 'wall_s')} | {f(gen, 'max_rss_kib', 1024, 0)} | {f(raw, 'max_rss_kib', 1024, 0)} | "
        f"{server} |"
    )
EOF
