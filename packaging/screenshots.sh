#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Takes the README's screenshots again from a release build (offscreen, no display needed):
#   bash packaging/screenshots.sh [BUILD_DIR]
# The sample ones use the bundled sample workspace; the "many" ones a workspace imported from
# ../shared/corpus (bounce emails) and the export fixtures in tests/data (19 providers, 11
# families), at 1024x640, 1280x800 and 1920x1080, light and dark; the "basis" ones a workspace of
# the bounce emails alone beside that one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build/release}
shared=${BT_SHARED_DIR:-$here/../shared}
gui=$build/app/bouncetriage
cli=$build/app/bouncetriage-cli
out=$here/resources/screenshots
sample=$build/sample/sample.btw
export QT_QPA_PLATFORM=offscreen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$gui" --workspace "$sample" --screenshot "$out/triage.png"
"$gui" --workspace "$sample" --dark --screenshot "$out/triage-dark.png"
"$gui" --workspace "$sample" --filter "provider=Microsoft 365 / Outlook.com" --screenshot "$out/triage-provider.png"
"$gui" --workspace "$sample" --view groups --screenshot "$out/groups.png"
"$gui" --view diagnose --screenshot "$out/diagnose.png" "$shared/corpus/sisimai/maildir/bsd/rhost-google-04.eml"
# The Sources view on the sample's generated DMARC reports, at the smallest and largest size.
for size in 1024x640 1920x1080; do
  "$gui" --workspace "$sample" --view sources --screenshot-size "$size" --screenshot "$out/sources-$size.png"
  "$gui" --workspace "$sample" --view sources --screenshot-size "$size" --dark --screenshot "$out/sources-$size-dark.png"
done

many=$tmp/many.btw
d=$here/tests/data
"$cli" import --workspace "$many" "$shared/corpus/sisimai/maildir" "$d/sendgrid-bounces.csv" \
  "$d/ses-notifications.jsonl" "$d/mailgun-events.json" "$d/postfix-mail.log" "$d/exim-mainlog" \
  "$d/postmark-bounces.json" "$d/sparkpost-events.jsonl" >/dev/null
for size in 1024x640 1280x800 1920x1080; do
  "$gui" --workspace "$many" --screenshot-size "$size" --screenshot "$out/many-$size.png"
  "$gui" --workspace "$many" --screenshot-size "$size" --dark --screenshot "$out/many-$size-dark.png"
done
# The rate's basis (issue 12, item 2): a workspace of bounce emails only (every provider a share
# of the bounces, no level) and the mixed one above (rates of sent where a source records sends).
emails=$tmp/emails.btw
"$cli" import --workspace "$emails" "$shared/corpus/sisimai/maildir" >/dev/null
for size in 1024x640 1920x1080; do
  "$gui" --workspace "$emails" --screenshot-size "$size" --screenshot "$out/basis-emails-$size.png"
  "$gui" --workspace "$many" --screenshot-size "$size" --screenshot "$out/basis-mixed-$size.png"
done
"$gui" --workspace "$emails" --view groups --screenshot-size 1024x640 --screenshot "$out/basis-emails-groups-1024x640.png"
"$gui" --workspace "$many" --view groups --screenshot-size 1920x1080 --screenshot "$out/basis-mixed-groups-1920x1080.png"
# The details pane beside a DMARC aggregate report: a planted case (tests/data/dmarc-planted).
planted=$tmp/planted.btw
"$cli" import --workspace "$planted" "$d/dmarc-planted/outlook-20250311.xml" >/dev/null
"$cli" import --workspace "$planted" --profile "$d/dmarc-planted/profile.json" "$d/dmarc-planted/bounces.csv" >/dev/null
"$gui" --workspace "$planted" --details dmarc --screenshot-size 1280x800 --screenshot "$out/details-dmarc.png"
"$gui" --workspace "$planted" --details dmarc --screenshot-size 1024x640 --dark --screenshot "$out/details-dmarc-1024x640-dark.png"
echo "screenshots written to $out"
