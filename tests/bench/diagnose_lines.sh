#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `diagnose --json --lines` end to end (start-up included): the CLI reading a file of replies and
# writing JSON lines to /dev/null, full and --brief, on three inputs made from the labelled
# replies:
#   distinct  100 000 lines, the fixture replies each with a unique " idN" appended (no repeats:
#             every line is diagnosed; the memo of repeated replies cannot help)
#   repeated  100 000 lines, the 141 fixture replies over and over (a bulk export's templates)
#   dev       the development split's replies with a third of them given a unique address
#             (150 000 lines)
# Each CLI given (default: this build's) runs each case three times, the CLIs taking turns;
# the median wall time and its lines/s are printed, with the median CPU time (user + sys).
#
#   bash tests/bench/diagnose_lines.sh [CLI...]
#   bash tests/bench/diagnose_lines.sh /tmp/old-cli build/release/app/bouncetriage-cli
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for p in time bc python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" >/dev/null
  }
done
clis=("$@")
[ ${#clis[@]} -gt 0 ] || clis=("$here/build/release/app/bouncetriage-cli")
for c in "${clis[@]}"; do
  [ -x "$c" ] || { echo "not an executable: $c (build first: bash packaging/setup.sh build)" >&2; exit 2; }
done
shared=${BT_SHARED_DIR:-$here/../shared}
fixtures=$shared/fixtures/replies.tsv
dev=$here/tests/data/replies/dev.tsv
[ -f "$fixtures" ] || { echo "no $fixtures" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$fixtures" "$dev" "$work" <<'EOF'
import sys
fixtures, dev, work = sys.argv[1:4]
def replies(path):
    rows = [l.rstrip('\n').split('\t') for l in open(path, encoding='utf-8')]
    col = rows[0].index('reply_text')
    return [r[col] for r in rows[1:] if len(r) > col and r[col]]
fx = replies(fixtures)
with open(f'{work}/distinct.txt', 'w', encoding='utf-8') as out:
    for i in range(100000):
        out.write(f'{fx[i % len(fx)]} id{i}\n')
with open(f'{work}/repeated.txt', 'w', encoding='utf-8') as out:
    for i in range(100000):
        out.write(fx[i % len(fx)] + '\n')
dv = replies(dev)
with open(f'{work}/dev.txt', 'w', encoding='utf-8') as out:
    for i in range(150000):
        r = dv[i % len(dv)]
        out.write((f'<user{i}@example.com>: ' + r if i % 3 == 0 else r) + '\n')
EOF

one() { # cli, input, flags… → "wall cpu"
  local cli=$1 input=$2
  shift 2
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$cli" diagnose --json "$@" --lines "$input" > /dev/null
  t1=$(date +%s.%N)
  read -r user sys < "$work/cpu"
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$user + $sys" | bc -l)"
}
median() { sort -g | sed -n 2p; }

printf '%-10s %-8s %8s %10s %8s  %s\n' input mode "wall s" "lines/s" "cpu s" cli
for input in distinct repeated dev; do
  lines=$(wc -l < "$work/$input.txt")
  for mode in full brief; do
    flags=()
    [ "$mode" = brief ] && flags=(--brief)
    declare -A walls=() cpus=()
    for round in 1 2 3; do
      for i in "${!clis[@]}"; do
        read -r w c < <(one "${clis[$i]}" "$work/$input.txt" "${flags[@]}")
        walls[$i]+="$w"$'\n'
        cpus[$i]+="$c"$'\n'
      done
    done
    for i in "${!clis[@]}"; do
      w=$(printf '%s' "${walls[$i]}" | median)
      c=$(printf '%s' "${cpus[$i]}" | median)
      printf '%-10s %-8s %8.2f %10.0f %8.2f  %s\n' "$input" "$mode" "$w" "$(echo "$lines / $w" | bc -l)" "$c" "${clis[$i]}"
    done
    unset walls cpus
  done
done
