#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bench CSV with many recipient domains: `bouncetriage-samplegen --bench-csv` sends to 10
# provider domains; real exports also reach thousands of company domains, where the Groups
# view by domain and the cube's cells grow. This rewrites a share of the rows (40 % by default)
# to one of N company domains (12 000 by default), the recipient in the reply too, the same
# rows and domains on every run (a fixed seed), so figures compare from one session to the next.
#
#   bash tests/bench/spread_domains.sh IN.csv OUT.csv [DOMAINS] [PERCENT]
#
# The 1M-event workspace of README.md's "Triage window" figures over 12 000 domains:
#   build/release/app/bouncetriage-samplegen --bench-csv /tmp/b.csv --rows 1000000
#   bash tests/bench/spread_domains.sh /tmp/b.csv /tmp/b12k.csv
#   build/release/app/bouncetriage-cli import --workspace /tmp/b12k.btw /tmp/b12k.csv
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 IN.csv OUT.csv [DOMAINS] [PERCENT]" >&2; exit 2; }
in=$1 out=$2 domains=${3:-12000} percent=${4:-40}
# Park and Miller's generator in awk (awk's own rand() differs between awks; its products stay
# below 2^53, exact in awk's doubles): one draw says whether the row moves, a second where to.
awk -v domains="$domains" -v percent="$percent" -F, '
BEGIN { s = 12345 }
function next_rand() { s = (s * 16807) % 2147483647; return s }
NR == 1 { print; next }
{
  move = next_rand() % 100 < percent
  which = next_rand() % domains
  if (!move) { print; next }
  email = $2
  at = index(email, "@")
  moved = substr(email, 1, at) "company" which ".example"
  line = $0
  # Every occurrence of the address (the email column and the reply that quotes it), as text.
  res = ""
  while ((p = index(line, email)) > 0) {
    res = res substr(line, 1, p - 1) moved
    line = substr(line, p + length(email))
  }
  print res line
}' "$in" > "$out"
