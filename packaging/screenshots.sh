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
# Watching (issue 15): a maildir receiving bounces over the last twelve hours with a burst of
# reputation blocks, a followed log, a source whose folder went away, and a sending IP listed on
# a blocklist served by a real DNS server on loopback (unbound, as the tests start it).
watchws=$tmp/watch.btw
md=$tmp/bounces
mkdir -p "$md/new" "$md/cur" "$md/tmp" "$tmp/gone"
dsn() { # n recipient hours-ago status diagnostic
  local date name
  date=$(date -u -d "-$3 hours" '+%a, %d %b %Y %H:%M:%S +0000')
  name="$((1700000000 + $1)).M$1P1.host"
  printf 'Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.shop.example.com>\r\nTo: news@shop.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: %s\r\nMessage-ID: <dsn.%s@mx.shop.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.shop.example.com\r\nX-Postfix-Sender: rfc822; news@shop.example.com\r\n\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\nRemote-MTA: dns; [192.0.2.27]\r\nDiagnostic-Code: smtp; %s\r\n\r\n--b1--\r\n' \
    "$date" "$1" "$2" "$4" "$5" > "$md/tmp/$name"
  mv "$md/tmp/$name" "$md/new/$name"
}
"$cli" source add --workspace "$watchws" "maildir:$md" >/dev/null
# The log's lines dated today (syslog stamps carry no year), so the chart spans the day.
sed "s/^Apr 11 [0-9][0-9]/$(date -u -d '-3 hours' '+%b %e %H')/" "$d/postfix-mail.log" > "$tmp/mail.log"
"$cli" source add --workspace "$watchws" "log:$tmp/mail.log" >/dev/null
"$cli" source add --workspace "$watchws" "folder:$tmp/gone" >/dev/null
rmdir "$tmp/gone"
n=0
for h in 12 11 10 9 8 7 6 5 4 3; do
  for dom in gmail.com outlook.com yahoo.com; do
    dsn $n "user$n@$dom" "$h" 5.1.1 "550 5.1.1 <user$n@$dom>: Recipient address rejected: User unknown"; n=$((n + 1))
  done
done
# The burst over the last hour and this one: the blocklist check below lists the IP now, so its
# band covers this hour beside the spike.
for h in 1 0; do
  for i in $(seq 1 8); do
    dsn $n "b$n@gmail.com" $h 5.7.1 "550-5.7.1 Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address."
    n=$((n + 1))
  done
done
"$cli" watch --workspace "$watchws" --once --no-monitor >/dev/null || true
port=$((20000 + RANDOM % 20000))
cat > "$tmp/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $port
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$tmp"
    pidfile: "$tmp/unbound.pid"
    use-syslog: no
    module-config: "iterator"
    local-zone: "zen.spamhaus.org." static
    local-zone: "." refuse
    local-data: '2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2'
    local-data: '27.2.0.192.zen.spamhaus.org. 300 IN A 127.0.0.3'
CONF
/usr/sbin/unbound -d -c "$tmp/unbound.conf" & unbound=$!
sleep 1
"$cli" monitor --workspace "$watchws" --add 192.0.2.27 --add shop.example.com >/dev/null
"$cli" monitor --workspace "$watchws" --check --dns-server "127.0.0.1:$port" --blocklist zen.spamhaus.org >/dev/null
kill "$unbound"
for size in 1024x640 1920x1080; do
  "$gui" --workspace "$watchws" --view watch --screenshot-size "$size" --screenshot "$out/watch-$size.png"
  "$gui" --workspace "$watchws" --view watch --screenshot-size "$size" --dark --screenshot "$out/watch-$size-dark.png"
  "$gui" --workspace "$watchws" --filter "provider=Gmail" --screenshot-size "$size" --screenshot "$out/watch-listing-$size.png"
done
# The Test Message tab on a received message (offline: what the message itself shows).
"$gui" --view tester --screenshot-size 1280x800 --screenshot "$out/tester.png" "$shared/corpus/sisimai/maildir/bsd/arf-02.eml"
echo "screenshots written to $out"
