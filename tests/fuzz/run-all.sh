#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every fuzz target, one after the other (never two at once), for its share of a time
# budget, and prints a table: target, seconds, executions, executions per second, coverage,
# findings. See README.md beside this file.
#
#   tests/fuzz/run-all.sh SECONDS [TARGET...]
#
# Environment: BT_FUZZ_BUILD   the fuzz preset's build folder (default: build/fuzz)
#              BT_FUZZ_WORK    where corpora, seeds, findings and logs go (default: $BT_FUZZ_BUILD/fuzz-work)
#              BT_SHARED_DIR   the shared data with corpus/sisimai (default: ../shared beside the repository)
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
budget=${1:?usage: run-all.sh SECONDS [TARGET...]}
shift
build=${BT_FUZZ_BUILD:-$repo/build/fuzz}
work=${BT_FUZZ_WORK:-$build/fuzz-work}
shared=${BT_SHARED_DIR:-$repo/../shared}
data=$repo/tests/data

all=(email reply csv profile_csv json log mbox spf dmarc dkim authresults tester rules profile)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
share=$((budget / ${#targets[@]}))
[ "$share" -lt 1 ] && share=1

# The memory a run may take. RSS: what the target's process holds in all (ASan's shadow memory and
# the shipped knowledge included, about 150-400 MB at rest); one allocation: a small multiple of
# the largest input (-max_len), so that an input costing far more than its own size is a finding.
rss_limit_mb=1024
malloc_limit_mb=32

max_len() {
    case $1 in
        email | csv | profile_csv | json | log | mbox | rules | tester) echo 65536 ;;
        *) echo 4096 ;;
    esac
}

dict_of() {
    case $1 in
        email | reply | log | mbox | tester) echo smtp ;;
        csv | profile_csv) echo csv ;;
        *) echo "$1" ;;
    esac
}

# Seeds: the repository's test data and the shared corpus, copied once into seeds/<target>.
seed() {
    local t=$1 dir=$work/seeds/$1
    [ -d "$dir" ] && return
    mkdir -p "$dir"
    case $t in
        email)
            for d in bsd dos mac; do cp "$shared/corpus/sisimai/maildir/$d"/* "$dir/" 2>/dev/null || true; done
            cp "$data"/fuzz/email/* "$dir/" 2>/dev/null || true ;;
        tester) # received messages with headers of every kind: the corpus' bounces are that too
            for d in bsd dos; do cp "$shared/corpus/sisimai/maildir/$d"/* "$dir/" 2>/dev/null || true; done ;;
        reply)
            # One reply text per file, from the labelled replies (column 2).
            awk -F'\t' -v dir="$dir" 'NR > 1 && NR <= 600 { f = dir "/" NR ".txt"; printf "%s", $2 > f; close(f) }' \
                "$data/replies/dev.tsv" ;;
        csv) cp "$data"/*.csv "$dir/" ;;
        json) cp "$data"/*.json "$data"/*.jsonl "$dir/"; rm -f "$dir/profile-events.json" ;;
        log) cp "$data/postfix-mail.log" "$data/exim-mainlog" "$dir/" ;;
        mbox) cp "$shared"/corpus/sisimai/mailbox/* "$dir/" ;;
        rules) cp "$repo"/resources/rules/*.json "$dir/" ;;
    esac
    # The hand-written seeds (edge cases the data lacks), and earlier findings: each must stay fixed.
    cp "$here/seeds/$t"/* "$dir/" 2>/dev/null || true
    cp "$data/fuzz/$t"/* "$dir/" 2>/dev/null || true
}

# The one-time caches that are not leaks (see lsan.supp).
export LSAN_OPTIONS=suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
# The importers' targets write each input and a workspace to a scratch folder: on tmpfs, SQLite's
# fsync costs nothing and the run measures the code, not the disk.
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && export TMPDIR=/dev/shm

printf '%-12s %8s %10s %9s %7s %7s %9s\n' target seconds execs execs/s cov ft findings
status=0
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "$bin: not built (cmake --preset fuzz && cmake --build build/fuzz)" >&2; exit 2; }
    seed "$t"
    mkdir -p "$work/corpus/$t" "$work/findings/$t" "$work/logs"
    log=$work/logs/$t.log
    dict=$here/dict/$(dict_of "$t").dict
    start=$(date +%s)
    # A finding stops the run; its input is left in findings/<target>/ (crash-, leak-, oom-,
    # timeout-, slow-unit- files).
    "$bin" -max_total_time="$share" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb="$rss_limit_mb" -malloc_limit_mb="$malloc_limit_mb" \
        -dict="$dict" -artifact_prefix="$work/findings/$t/" -print_final_stats=1 \
        "$work/corpus/$t" "$work/seeds/$t" >"$log" 2>&1 || true
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    execs=${execs:-0}
    line=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
    findings=$(find "$work/findings/$t" -type f | wc -l)
    [ "$findings" -gt 0 ] && status=1
    printf '%-12s %8d %10d %9d %7s %7s %9d\n' "$t" "$took" "$execs" $((execs / (took > 0 ? took : 1))) \
        "${cov:--}" "${ft:--}" "$findings"
done
exit $status
