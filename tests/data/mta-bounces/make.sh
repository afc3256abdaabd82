#!/bin/bash
# Make real bounces (DSNs) with Debian 12 MTAs against the scripted SMTP server smtp_sink.py.
# usage (as root, on a throw-away Debian 12 machine): ./make.sh [postfix] [exim] [opensmtpd] [courier] [dma] ...
# Each MTA is installed with apt-get, configured from templates/, run in the background on
# loopback, fed the messages of cases.tsv, and purged again (the MTA packages conflict).
# Bounces are delivered to /var/mail/tester and split into <mta>/NN.eml; afterwards
# build_expected.py writes expected.tsv.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${WORK:-/tmp/btwork}
PORT=${PORT:-2525}
mkdir -p "$W"
export DEBIAN_FRONTEND=noninteractive
id tester >/dev/null 2>&1 || useradd -m tester

start_sink() {  # $1 = log file
    python3 "$HERE/smtp_sink.py" "$HERE/replies.tsv" "$1" "$PORT" >"$W/sink.out" 2>&1 &
    echo $! >"$W/sink.pid"
    sleep 1
}
stop_sink() { kill "$(cat "$W/sink.pid")" 2>/dev/null || true; }

subst() {  # template -> stdout
    sed -e "s/@SINK_PORT@/$PORT/g" -e "s/@GREET_PORT@/$((PORT+1))/g" \
        -e "s/@MAIL_PORT@/$((PORT+2))/g" -e "s/@HELO_PORT@/$((PORT+3))/g" \
        -e "s/@QUEUE_LIFETIME@/$QUEUE_LIFETIME/g" -e "s/@DELAY_WARNING@/$DELAY_WARNING/g" "$1"
}

. "$HERE/queue.sh"

collect() {  # $1 = mta, $2 = phase [, $3 = mbox, default /var/mail/tester]
    local mbox=${3:-/var/mail/tester}
    if [ -s "$mbox" ]; then
        python3 "$HERE/collect.py" "$1" "$mbox" "$2" "$HERE/$1"
    fi
    : >"$mbox"
}

purge() { apt-get purge -y "$@" >/dev/null 2>&1 || true; apt-get autoremove -y --purge >/dev/null 2>&1 || true; }

record_version() { touch "$HERE/versions.tsv"; sed -i "/^$1\t/d" "$HERE/versions.tsv"; dpkg-query -W -f='${Package}\t${Version}\n' "$@" >>"$HERE/versions.tsv"; }

run_postfix() {
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y --no-install-recommends postfix >/dev/null
    record_version postfix
    rm -rf "$HERE/postfix"; mkdir -p "$HERE/postfix"; rm -f /var/mail/tester
    : >"$W/postfix-sink.log"; start_sink "$W/postfix-sink.log"
    # phase 1: one delivery attempt, temporary failures are returned at once
    QUEUE_LIFETIME=0 DELAY_WARNING=0h subst "$HERE/templates/postfix-main.cf" >/etc/postfix/main.cf
    touch /var/log/postfix-bt.log
    postfix start
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" postfix /usr/sbin/sendmail
    wait_for "postqueue -p | grep -q 'Mail queue is empty'" 120
    collect postfix 1
    # phase 2: temporary failures retried for 75s, delay warning after 15s
    QUEUE_LIFETIME=75s DELAY_WARNING=15s subst "$HERE/templates/postfix-main.cf" >/etc/postfix/main.cf
    postfix reload; sleep 2
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" postfix /usr/sbin/sendmail C20 C26
    sleep 20
    wait_for "postqueue -p | grep -q 'Mail queue is empty'" 240
    collect postfix 2
    postfix stop || true
    stop_sink; cp "$W/postfix-sink.log" "$HERE/postfix/sink.log"
    purge postfix
}

run_exim() {
    apt-get install -y --no-install-recommends exim4-daemon-light >/dev/null
    record_version exim4-daemon-light
    rm -rf "$HERE/exim"; mkdir -p "$HERE/exim"; rm -f /var/mail/tester
    : >"$W/exim-sink.log"; start_sink "$W/exim-sink.log"
    # phase 1: no retry rules, so temporary errors are returned at once
    QUEUE_LIFETIME=0 DELAY_WARNING=0s subst "$HERE/templates/exim4.conf" | sed 's/@RETRY@//' >/etc/exim4/exim4.conf
    exim4 -q10s -oP "$W/exim.pid"
    sleep 1
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" exim /usr/sbin/sendmail
    wait_for "[ -z \"\$(exim4 -bp)\" ]" 120
    collect exim 1
    kill "$(cat "$W/exim.pid")"; sleep 1
    # phase 2: retry every 10s for 75s, delay warning after 15s
    QUEUE_LIFETIME=0 DELAY_WARNING=15s:1h subst "$HERE/templates/exim4.conf" | sed 's/@RETRY@/* * F,75s,10s/' >/etc/exim4/exim4.conf
    exim4 -q10s -oP "$W/exim.pid"
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" exim /usr/sbin/sendmail C20 C26
    sleep 20
    wait_for "[ -z \"\$(exim4 -bp)\" ]" 240
    collect exim 2
    kill "$(cat "$W/exim.pid")" || true
    stop_sink; cp "$W/exim-sink.log" "$HERE/exim/sink.log"
    purge exim4-daemon-light exim4-base exim4-config
}

run_opensmtpd() {
    apt-get install -y --no-install-recommends opensmtpd >/dev/null
    record_version opensmtpd
    rm -rf "$HERE/opensmtpd"; mkdir -p "$HERE/opensmtpd"; rm -f /var/mail/tester
    : >"$W/opensmtpd-sink.log"; start_sink "$W/opensmtpd-sink.log"
    # one phase: envelopes expire after 30s, delay notices after 10s; retries forced every 5s
    QUEUE_LIFETIME=30s DELAY_WARNING=10s subst "$HERE/templates/smtpd.conf" >/etc/smtpd.conf
    smtpd -d -f /etc/smtpd.conf >"$W/smtpd.out" 2>&1 & echo $! >"$W/smtpd.pid"
    sleep 2
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" opensmtpd /usr/sbin/sendmail $(seq -f 'C%02g' 1 35)
    for i in $(seq 1 40); do
        sleep 5; smtpctl schedule all >/dev/null 2>&1 || true
        [ -z "$(smtpctl show queue 2>/dev/null)" ] && [ $i -gt 10 ] && break
    done
    sleep 5
    # greeting and HELO rejections: sent on their own (with forced retries every 5s
    # while other mail was queued, OpenSMTPD kept reconnecting and never expired them)
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" opensmtpd /usr/sbin/sendmail C36 C37
    for i in $(seq 1 20); do
        sleep 10; smtpctl schedule all >/dev/null 2>&1 || true
        [ -z "$(smtpctl show queue 2>/dev/null)" ] && [ $i -gt 6 ] && break
    done
    sleep 5
    collect opensmtpd 1
    kill "$(cat "$W/smtpd.pid")" || true; sleep 1
    stop_sink; cp "$W/opensmtpd-sink.log" "$HERE/opensmtpd/sink.log"
    purge opensmtpd
}

run_courier() {
    apt-get install -y --no-install-recommends courier-mta >/dev/null
    record_version courier-mta
    rm -rf "$HERE/courier"; mkdir -p "$HERE/courier"
    : >"$W/courier-sink.log"; start_sink "$W/courier-sink.log"
    local C=/etc/courier MB=/home/tester/bounces.mbox
    rm -f "$MB"
    echo mta.localhost >$C/me; echo localhost >$C/defaultdomain
    printf 'localhost\nmta.localhost\n' >$C/locals; echo 'mailer-daemon@mta.localhost' >$C/dsnfrom
    QUEUE_LIFETIME= DELAY_WARNING= subst "$HERE/templates/courier-esmtproutes" >$C/esmtproutes
    # local delivery to a file that is not a directory is an mbox; no TLS offered by the sink
    sed -i -e 's|^DEFAULTDELIVERY=.*|DEFAULTDELIVERY=./bounces.mbox|' \
        -e 's|^ESMTP_USE_STARTTLS=.*|ESMTP_USE_STARTTLS=0|' $C/courierd
    makealiases
    # phase 1: a queue time of 1s, so a temporary failure is returned at the second attempt (5s later)
    echo 1s >$C/queuetime; echo 1h >$C/warntime
    echo 5s >$C/retryalpha; echo 1 >$C/retrybeta; echo 5s >$C/retrygamma
    /usr/sbin/authdaemond start; sleep 1
    /usr/sbin/courier start; sleep 2
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" courier /usr/sbin/sendmail
    sleep 10
    wait_for "mailq | grep -q '^ *0 messages'" 180
    collect courier 1 "$MB"
    # phase 2: temporary failures retried every 10s for 75s, delay warning after 15s
    /usr/sbin/courier stop; sleep 2
    echo 75s >$C/queuetime; echo 15s >$C/warntime
    echo 10s >$C/retryalpha; echo 3 >$C/retrybeta; echo 10s >$C/retrygamma
    /usr/sbin/courier start; sleep 2
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" courier /usr/sbin/sendmail C20 C26
    sleep 20
    wait_for "mailq | grep -q '^ *0 messages'" 240
    collect courier 2 "$MB"
    /usr/sbin/courier stop || true; /usr/sbin/authdaemond stop || true
    stop_sink; cp "$W/courier-sink.log" "$HERE/courier/sink.log"
    purge courier-mta courier-base courier-authlib courier-authdaemon courier-authlib-userdb
    rm -rf /etc/courier /var/lib/courier  # the files make.sh wrote are not the package's
}

dma_port() { sed "s/@PORT@/$1/" "$HERE/templates/dma.conf" >/etc/dma/dma.conf; }

dma_expire() {  # give up the messages dma still retries (it only does after 5 days)
    local i
    for i in 1 2 3; do
        ls /var/spool/dma/Q* >/dev/null 2>&1 || return 0
        # dma retries a temporary failure in the delivery process itself, with a backoff of
        # minutes, and returns the message only when its queue file is older than MAX_TIMEOUT
        # (5 days, compiled in): stop the processes that hold the queue files (by their ids),
        # make the files 6 days old, and run the queue once, as dma's cron job would
        local pids; pids=$(fuser /var/spool/dma/Q* 2>/dev/null || true)
        [ -n "$pids" ] && kill $pids 2>/dev/null || true
        sleep 1
        touch -d '6 days ago' /var/spool/dma/Q* /var/spool/dma/M* 2>/dev/null || true
        /usr/sbin/dma -q || true
        sleep 5
    done
}

run_dma() {
    echo "dma dma/mailname string localhost" | debconf-set-selections
    echo "dma dma/relayhost string 127.0.0.1" | debconf-set-selections
    apt-get install -y --no-install-recommends dma >/dev/null
    record_version dma
    rm -rf "$HERE/dma"; mkdir -p "$HERE/dma"; rm -f /var/mail/tester
    : >"$W/dma-sink.log"; start_sink "$W/dma-sink.log"
    # dma has one smarthost and one port for all mail and delivers at once in the background, one
    # SMTP session per recipient: the cases for the normal server first, then each of the
    # MAIL FROM, greeting and HELO cases with PORT pointing at its server
    dma_port "$PORT"
    python3 "$HERE/send_cases.py" "$HERE/cases.tsv" dma /usr/sbin/sendmail $(seq -f 'C%02g' 1 34)
    sleep 15
    dma_expire
    for c in "C35 $((PORT+2))" "C36 $((PORT+1))" "C37 $((PORT+3))"; do
        set -- $c
        dma_port "$2"
        python3 "$HERE/send_cases.py" "$HERE/cases.tsv" dma /usr/sbin/sendmail "$1"
        sleep 5
        dma_expire
    done
    sleep 3
    python3 "$HERE/collect.py" dma /var/mail/tester 1 "$HERE/dma" X-Original-To
    : >/var/mail/tester
    stop_sink; cp "$W/dma-sink.log" "$HERE/dma/sink.log"
    purge dma
    rm -rf /etc/dma /var/spool/dma
}

for mta in "$@"; do
    "run_$mta"
done
python3 "$HERE/build_expected.py" "$HERE"
