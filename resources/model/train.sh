#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Retrains the classifier's statistical fallback (resources/model/replies-model.json) from the
# labelled replies in the repository: ../shared/fixtures/replies.tsv, the development split
# tests/data/replies/dev.tsv (never the sealed split), every rule and lexicon example, and, as
# teaching rows only (--augment: never scored by the cross-validation, and a rewording trains
# only the folds that do not test its original's source), the rewordings and translations of
# labelled replies that were read (tests/data/probes: never the ones kept as checks).
#
#   bash resources/model/train.sh [TRAINER]           # write the model
#   bash resources/model/train.sh --check [TRAINER]   # fail if the shipped model differs
#
# TRAINER defaults to build/release/app/bouncetriage-trainmodel. The result is deterministic:
# the same data and rules give the same file, byte for byte.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
check=0
if [ "${1:-}" = --check ]; then
  check=1
  shift
fi
trainer=${1:-$here/build/release/app/bouncetriage-trainmodel}
shared=${BT_SHARED_DIR:-$here/../shared}
model=$here/resources/model/replies-model.json
probes=$here/tests/data/probes
inputs=("$shared/fixtures/replies.tsv" "$here/tests/data/replies/dev.tsv"
  --augment "$probes/paraphrase-tune.tsv" --augment "$probes/paraphrase-fixtures.tsv"
  --augment "$probes/paraphrase-ambiguous.tsv" --augment "$probes/translated-fixtures.tsv"
  --augment-weight 1.0)
if [ "$check" = 1 ]; then
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  "$trainer" -o "$out" "${inputs[@]}" >/dev/null
  if ! cmp -s "$out" "$model"; then
    echo "resources/model/replies-model.json is not what the trainer makes from the data now:" >&2
    echo "run 'bash resources/model/train.sh' and commit the model" >&2
    exit 1
  fi
  echo "the shipped model is reproducible from the repository's data"
else
  "$trainer" --cv 5 "${inputs[@]}"
  "$trainer" -o "$model" "${inputs[@]}"
fi
