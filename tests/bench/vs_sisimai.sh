#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reads the same bounce emails with Debian's Sisimai (libsisimai-perl) and with
# bouncetriage-cli parse, in one run: messages per second and peak memory of each.
# The corpus (maildir/bsd) is repeated into one mbox until it holds >= 20 000 messages.
#
#   bash tests/bench/vs_sisimai.sh [MIN_MESSAGES]      (after packaging/setup.sh build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cli=$here/build/release/app/bouncetriage-cli
corpus=${BT_SHARED_DIR:-$here/../shared}/corpus/sisimai/maildir/bsd
want=${1:-20000}
for p in libsisimai-perl time bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" >/dev/null
  }
done
[ -x "$cli" ] || { echo "build first: bash packaging/setup.sh build" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mbox=$work/corpus.mbox
files=("$corpus"/*.eml)
n=0
while [ "$n" -lt "$want" ]; do
  for f in "${files[@]}"; do
    printf 'From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n' >> "$mbox"
    # mboxrd quoting so both readers see the same message boundaries.
    sed -e 's/^\(>*From \)/>\1/' "$f" >> "$mbox"
    printf '\n' >> "$mbox"
    n=$((n + 1))
  done
done
size=$(du -m "$mbox" | cut -f1)
echo "input: $n messages, ${size} MiB mbox (maildir/bsd repeated)"

measure() { # name, command...
  local name=$1; shift
  local t0 t1 out
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/out" 2> "$work/err" || { echo "$name failed:"; tail "$work/err"; return 1; }
  t1=$(date +%s.%N)
  local secs rss
  secs=$(echo "$t1 - $t0" | bc -l)
  rss=$(cat "$work/rss")
  printf '%-18s %8.1f s %10.0f msg/s %8.0f MiB peak RSS   %s\n' "$name" "$secs" "$(echo "$n / $secs" | bc -l)" \
    "$(echo "$rss / 1024" | bc -l)" "$(head -c 80 "$work/summary" 2>/dev/null || true)"
  echo "$secs" > "$work/$name.secs"
}

perl -MSisimai -e 'print "Sisimai $Sisimai::VERSION\n"'
: > "$work/summary"
measure sisimai perl -MSisimai -e 'my $v = Sisimai->make($ARGV[0]) // []; print scalar(@$v), "\n"' "$mbox"
echo "  sisimai records: $(cat "$work/out")"
measure bouncetriage "$cli" parse --json "$mbox"
echo "  bouncetriage records: $(grep -vc '"error"' "$work/out" || true), not-bounce/unreadable lines: $(grep -c '"error"' "$work/out" || true)"
printf 'speed-up: %.1fx\n' "$(echo "$(cat "$work/sisimai.secs") / $(cat "$work/bouncetriage.secs")" | bc -l)"
