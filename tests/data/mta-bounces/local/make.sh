#!/bin/bash
# Make real notices for failures where no remote server replied, with Debian 12's Postfix and
# Exim: unknown local users, aliases, loops, DNS failures (a real unbound on 127.0.0.1:53,
# authoritative for lt.test), connections refused or unreachable until the queue lifetime ended,
# TLS required but not offered, a full mailbox, a message over the next hop's size limit and
# failing pipe commands.
# usage (as root, on a throw-away Debian 12 machine): ./make.sh [postfix] [exim]
# While it runs, /etc/resolv.conf names 127.0.0.1 (restored at the end) and 198.51.100.0/24 has
# an "unreachable" route (removed at the end). Bounces go to /var/mail/tester and are split into
# <mta>/NN.eml by ../collect.py; afterwards build_expected.py writes expected.tsv.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
UP=$(cd "$HERE/.." && pwd)
W=${WORK:-/tmp/btwork-local}
PORT=${PORT:-2525}      # the scripted server (../smtp_sink.py), which offers no STARTTLS
SMALL=${SMALL:-2600}    # the MTA's own second listener with a 1000-byte message limit
mkdir -p "$W"
export DEBIAN_FRONTEND=noninteractive
[ -f "$W/aliases.orig" ] || cp /etc/aliases "$W/aliases.orig"
for u in tester fulluser; do id "$u" >/dev/null 2>&1 || useradd -m "$u"; done

subst() {
    sed -e "s/@SINK_PORT@/$PORT/g" -e "s/@SMALL_PORT@/$SMALL/g" \
        -e "s/@QUEUE_LIFETIME@/${QUEUE_LIFETIME:-}/g" "$1"
}

start_dns() {
    UPSTREAM=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)
    [ "$UPSTREAM" = 127.0.0.1 ] && UPSTREAM=$(awk '/^nameserver/ {print $2; exit}' "$W/resolv.conf.orig")
    mkdir -p "$W/unbound"
    sed -e "s|@DIR@|$W/unbound|g" -e "s|@UPSTREAM@|$UPSTREAM|" "$HERE/templates/unbound.conf" >"$W/unbound/unbound.conf"
    /usr/sbin/unbound -d -c "$W/unbound/unbound.conf" >"$W/unbound/stderr" 2>&1 &
    echo $! >"$W/unbound.pid"
    sleep 2
    [ -f "$W/resolv.conf.orig" ] || cp /etc/resolv.conf "$W/resolv.conf.orig"
    echo "nameserver 127.0.0.1" >/etc/resolv.conf
    ip route add unreachable 198.51.100.0/24 2>/dev/null || true
    # the zone answers as intended
    python3 - <<'PY'
import socket
for name in ("mx.refused.lt.test", "mx.unreach.lt.test"):
    print(name, socket.gethostbyname(name))
try:
    socket.gethostbyname("nx.lt.test"); raise SystemExit("nx.lt.test resolves")
except socket.gaierror as e:
    print("nx.lt.test:", e)
PY
}

stop_dns() {
    [ -f "$W/resolv.conf.orig" ] && cp "$W/resolv.conf.orig" /etc/resolv.conf
    ip route del unreachable 198.51.100.0/24 2>/dev/null || true
    [ -f "$W/unbound.pid" ] && kill "$(cat "$W/unbound.pid")" 2>/dev/null || true
    rm -f "$W/unbound.pid"
}

start_sink() {
    python3 "$UP/smtp_sink.py" "$UP/replies.tsv" "$W/sink.log" "$PORT" >"$W/sink.out" 2>&1 &
    echo $! >"$W/sink.pid"
    sleep 1
}
stop_sink() { [ -f "$W/sink.pid" ] && kill "$(cat "$W/sink.pid")" 2>/dev/null || true; rm -f "$W/sink.pid"; }

restore_aliases() { [ -f "$W/aliases.orig" ] && cp "$W/aliases.orig" /etc/aliases || true; }
cleanup() { stop_sink; stop_dns; restore_aliases; }
trap cleanup EXIT

. "$UP/queue.sh"

purge() { apt-get purge -y "$@" >/dev/null 2>&1 || true; apt-get autoremove -y --purge >/dev/null 2>&1 || true; }
record_version() {
    local p; touch "$HERE/versions.tsv"
    for p in "$@"; do sed -i "/^$p\t/d" "$HERE/versions.tsv"; done
    dpkg-query -W -f='${Package}\t${Version}\n' "$@" >>"$HERE/versions.tsv"
}

cases_of() { awk -F'\t' -v p="$1" 'index($1, p) == 1 {print $1}' "$HERE/cases.tsv"; }

prepare_mailboxes() {
    rm -f /var/mail/tester /var/mail/fulluser
    # fulluser's mailbox already holds 5000 bytes, more than its 4000-byte quota
    python3 -c "import sys; sys.stdout.write('From old@localhost Thu Jan  1 00:00:00 2026\nSubject: old\n\n' + 'x' * 4950 + '\n\n')" >/var/mail/fulluser
    chown fulluser:mail /var/mail/fulluser; chmod 0660 /var/mail/fulluser
}

run_postfix() {
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y --no-install-recommends postfix >/dev/null
    record_version postfix
    rm -rf "$HERE/postfix"; mkdir -p "$HERE/postfix"; prepare_mailboxes
    start_dns; start_sink
    # one attempt and then a retry or two: a temporary failure is returned after 20s
    QUEUE_LIFETIME=20s subst "$HERE/templates/postfix-main.cf" >/etc/postfix/main.cf
    cp "$HERE/templates/aliases" /etc/aliases; newaliases
    subst "$HERE/templates/postfix-master.cf" >>/etc/postfix/master.cf
    # no chroot: the daemons read /etc/resolv.conf as it is now
    postconf -F '*/*/chroot = n'
    touch /var/log/postfix-bt.log
    postfix check; postfix start; sleep 2
    python3 "$HERE/send_local.py" "$HERE/cases.tsv" postfix /usr/sbin/sendmail $(cases_of L)
    sleep 25
    wait_for "postqueue -p | grep -q 'Mail queue is empty'" 180
    python3 "$UP/collect.py" postfix /var/mail/tester 1 "$HERE/postfix"
    cp /var/log/postfix-bt.log "$HERE/postfix/maillog.txt"
    postfix stop || true
    stop_sink; stop_dns
    purge postfix
    rm -rf /etc/postfix
}

run_exim() {
    apt-get install -y --no-install-recommends exim4-daemon-light >/dev/null
    record_version exim4-daemon-light
    rm -rf "$HERE/exim"; mkdir -p "$HERE/exim"; prepare_mailboxes
    start_dns; start_sink
    cp "$HERE/templates/aliases" /etc/aliases
    # retry a temporary failure every 5s for 20s, then return it
    subst "$HERE/templates/exim4.conf" | sed 's/@RETRY@/* * F,20s,5s/' >/etc/exim4/exim4.conf
    exim4 -bV >/dev/null
    exim4 -bd -q5s -oP "$W/exim.pid"; sleep 2
    python3 "$HERE/send_local.py" "$HERE/cases.tsv" exim /usr/sbin/sendmail $(cases_of L)
    sleep 25
    wait_for "[ -z \"\$(exim4 -bp)\" ]" 180
    python3 "$UP/collect.py" exim /var/mail/tester 1 "$HERE/exim"
    cp /var/log/exim4/mainlog "$HERE/exim/mainlog.txt" 2>/dev/null || true
    kill "$(cat "$W/exim.pid")" || true; sleep 1
    stop_sink; stop_dns
    purge exim4-daemon-light exim4-base exim4-config
    rm -rf /etc/exim4 /var/mail/fulluser  # the files make.sh wrote are not the package's
}

run_amavis() {  # Postfix with amavisd-new as its content filter, ClamAV's clamscan as its scanner
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y --no-install-recommends postfix amavisd-new clamav >/dev/null
    record_version amavisd-new clamav
    rm -rf "$HERE/amavis"; mkdir -p "$HERE/amavis"; prepare_mailboxes
    start_dns; start_sink
    QUEUE_LIFETIME=20s subst "$HERE/templates/postfix-main.cf" >/etc/postfix/main.cf
    echo "content_filter = smtp-amavis:[127.0.0.1]:10024" >>/etc/postfix/main.cf
    echo "relay_domains = bt.test" >>/etc/postfix/main.cf
    cp "$HERE/templates/aliases" /etc/aliases; newaliases
    subst "$HERE/templates/postfix-master.cf" >>/etc/postfix/master.cf
    cat "$HERE/templates/postfix-master-amavis.cf" >>/etc/postfix/master.cf
    postconf -F '*/*/chroot = n'
    cp "$HERE/templates/amavis-50-user" /etc/amavis/conf.d/50-user
    # ClamAV's signature for the EICAR test file: its MD5 and size (ClamAV's .hdb format)
    echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature" >/etc/amavis/bt-eicar.hdb
    chmod 0644 /etc/amavis/bt-eicar.hdb
    touch /var/log/postfix-bt.log
    postfix check; postfix start
    /usr/sbin/amavisd start; sleep 5
    python3 "$HERE/send_local.py" "$HERE/cases.tsv" amavis /usr/sbin/sendmail $(cases_of A)
    sleep 15
    wait_for "postqueue -p | grep -q 'Mail queue is empty'" 120
    python3 "$UP/collect.py" amavis /var/mail/tester 1 "$HERE/amavis"
    grep -E 'amavis|postfix' /var/log/postfix-bt.log >"$HERE/amavis/maillog.txt" || true
    /usr/sbin/amavisd stop || true; postfix stop || true
    stop_sink; stop_dns
    purge postfix amavisd-new clamav clamav-base clamav-freshclam libclamav12
    rm -rf /etc/postfix /etc/amavis /var/lib/amavis /var/mail/fulluser
}

for mta in "$@"; do
    "run_$mta"
done
python3 "$HERE/build_expected.py" "$HERE"
