#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Import throughput: a SendGrid-shaped bounce CSV of 10 000, 100 000 and 1 000 000 rows, read by
# sqlite3's own .import into a bare table and by `bouncetriage-cli import` (parse, diagnose,
# template, dedup, indexes, full-text search), in one run. Wall time and peak memory of each.
#
#   bash tests/bench/import_vs_sqlite.sh [ROWS...]      (after packaging/setup.sh build)
#   BT_BUILD_DIR=build/h4 bash tests/bench/import_vs_sqlite.sh 100000   (another build tree)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bd=${BT_BUILD_DIR:-build/release} # another build tree, absolute or from the repository root
[[ $bd = /* ]] || bd=$here/$bd
bin=$bd/app
for p in sqlite3 time bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" >/dev/null
  }
done
[ -x "$bin/bouncetriage-cli" ] || { echo "build first: bash packaging/setup.sh build" >&2; exit 2; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # out-prefix, command…
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$work/rss" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err"; exit 1; }
  t1=$(date +%s.%N)
  read -r kb user sys < "$work/rss"
  echo "$(echo "$t1 - $t0" | bc -l) $kb $(echo "$user + $sys" | bc -l)"
}
# Wall time decides the ratio; CPU time (user + sys) is shown too, as it varies less on a busy machine.
printf '%10s %10s %10s %12s %10s %10s %9s %8s\n' rows "sqlite3 s" "cpu s" "sqlite3 MiB" "ours s" "cpu s" "ours MiB" ratio
for n in "${sizes[@]}"; do
  csv=$work/bounces-$n.csv
  "$bin/bouncetriage-samplegen" --bench-csv "$csv" --rows "$n"
  rm -f "$work/bare.db"
  read -r ts ms cs < <(run sqlite3 "$work/bare.db" -cmd '.mode csv' ".import $csv bounces" 'SELECT COUNT(*) FROM bounces;')
  rm -f "$work/ws.btw" "$work/ws.btw-wal" "$work/ws.btw-shm" "$work/ws.btw-bulk"
  read -r to mo co < <(run "$bin/bouncetriage-cli" import --workspace "$work/ws.btw" "$csv")
  grep -q "imported $n," "$work/out" || { echo "import did not take every row:"; cat "$work/out"; exit 1; }
  printf '%10d %10.2f %10.2f %12.0f %10.2f %10.2f %9.0f %8.2f\n' "$n" "$ts" "$cs" "$(echo "$ms/1024" | bc -l)" \
    "$to" "$co" "$(echo "$mo/1024" | bc -l)" "$(echo "$to/$ts" | bc -l)"
  rm -f "$csv"
done
