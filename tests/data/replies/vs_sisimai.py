#!/usr/bin/env python3
"""A peer on the labelled replies: Debian's Sisimai (libsisimai-perl) and bouncetriage-cli parse
read the same bounce emails, one per labelled reply, and are scored against the labels.

usage: vs_sisimai.py LABELLED.tsv [--cli PATH] [--misses FILE]

Sisimai reads bounce emails, not reply lines, so each reply is wrapped in the plainest bounce
there is: an RFC 3464 report whose Diagnostic-Code is the reply, whose Status is the reply's
enhanced code (or X.0.0 of its basic code, 5.0.0 when it has none) and whose recipient is
numbered so both answers can be matched to their row. Both programs read the same mbox; the
reason each gives is mapped to its family by the vocabulary's table. Our figure here is that
of `parse` (bounce emails), which follows Sisimai's conventions for emails (a "user unknown"
with no SMTP stage and no X.1.1 status reads as filtered), so it is a little below what
`diagnose --lines` scores on the same replies (score-replies.py).

Sisimai answers `undefined`/`onhold` where none of its phrases match: those count as unknown.
"""
import argparse, collections, csv, json, os, re, subprocess, sys, tempfile

FAMILIES = {
    'address': 'userunknown hasmoved hostunknown suspend notaccept suppressed',
    'relay': 'norelaying securityerror', 'auth': 'authfailure requireptr',
    'reputation': 'blocked badreputation', 'policy': 'policyviolation rejected filtered',
    'content': 'spamdetected virusdetected contenterror notcompliantrfc',
    'capacity': 'mailboxfull mesgtoobig exceedlimit systemfull', 'rate_limit': 'speeding toomanyconn',
    'routing': 'networkerror expired failedstarttls', 'system': 'systemerror mailererror syntaxerror',
    'complaint': 'feedback', 'not_bounce': 'vacation delivered', 'unknown': 'undefined onhold'}
FAMILY = {r: f for f, rs in FAMILIES.items() for r in rs.split()}

ap = argparse.ArgumentParser()
ap.add_argument('tsv')
ap.add_argument('--cli', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                              'build', 'release', 'app', 'bouncetriage-cli'))
ap.add_argument('--misses', help='write the rows Sisimai gets right and we do not to this file')
a = ap.parse_args()

rows = list(csv.DictReader(open(a.tsv, newline='', encoding='utf-8'), delimiter='\t', quoting=csv.QUOTE_NONE))
work = tempfile.mkdtemp()
mbox = os.path.join(work, 'replies.mbox')
with open(mbox, 'w', encoding='utf-8') as f:
    for i, r in enumerate(rows):
        reply = ' '.join(r['reply_text'].split())
        enhanced = re.search(r'\b([245])\.(\d{1,3})\.(\d{1,3})\b', reply)
        basic = re.match(r'\s*([45])\d\d\b', reply)
        status = enhanced.group(0) if enhanced and enhanced.group(1) != '2' else (
            basic.group(1) + '.0.0' if basic else '5.0.0')
        f.write(f"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
                f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nTo: alice@example.org\n"
                f"Subject: Undelivered Mail Returned to Sender\nDate: Thu, 1 Jan 2026 00:00:00 +0000\n"
                f"Message-ID: <peer{i}@mx.example.net>\nMIME-Version: 1.0\n"
                f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b{i}\"\n\n"
                f"--b{i}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                f"Your message could not be delivered to one or more recipients.\n\n"
                f"--b{i}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
                f"Final-Recipient: rfc822; rcpt{i}@example.net\nAction: failed\nStatus: {status}\n"
                f"Remote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; {reply}\n\n"
                f"--b{i}\nContent-Type: text/rfc822-headers\n\nFrom: alice@example.org\nTo: rcpt{i}@example.net\n"
                f"Subject: hello\nMessage-ID: <orig{i}@example.org>\n\n--b{i}--\n\n")


def numbered(pairs):
    out = {}
    for address, reason in pairs:
        m = re.match(r'rcpt(\d+)@', address or '')
        if m:
            out.setdefault(int(m.group(1)), reason or 'undefined')
    return out


perl = subprocess.run(['perl', '-MSisimai', '-e', 'my $v = Sisimai->make($ARGV[0], delivered => 1, vacation => 1) // [];'
                       ' print $_->recipient->address, "\\t", $_->reason, "\\n" for @$v', mbox],
                      capture_output=True, text=True)
if perl.returncode:
    sys.exit('Sisimai failed (apt-get install libsisimai-perl):\n' + perl.stderr)
sisimai = numbered(line.split('\t') for line in perl.stdout.splitlines())
cli = subprocess.run([a.cli, 'parse', '--json', mbox], capture_output=True, text=True)
ours = numbered((o.get('recipient'), o.get('reason')) for o in map(json.loads, cli.stdout.splitlines()))
version = subprocess.run(['perl', '-MSisimai', '-e', 'print $Sisimai::VERSION'], capture_output=True, text=True).stdout


def score(name, got):
    n = len(rows)
    family = reason = unknown = answered = right = 0
    for i, r in enumerate(rows):
        g = got.get(i, 'undefined')
        f = FAMILY.get(g, 'unknown')
        family += f == r['family']
        reason += g == r['reason']
        if f == 'unknown':
            unknown += r['family'] != 'unknown'
        else:
            answered += 1
            right += f == r['family']
    print(f"{name:22} {n} replies: family {100 * family / n:.1f} %, reason {100 * reason / n:.1f} %, "
          f"unknown {100 * unknown / n:.1f} %, right among answers {100 * right / max(answered, 1):.1f} %"
          f" (no record for {n - len(got)})")


score(f'Sisimai {version}', sisimai)
score('bouncetriage parse', ours)
if a.misses:
    with open(a.misses, 'w', encoding='utf-8') as f:
        for i, r in enumerate(rows):
            s, o = FAMILY.get(sisimai.get(i, 'undefined')), FAMILY.get(ours.get(i, 'undefined'))
            if s == r['family'] != o:
                f.write(f"{r['family']}\t{ours.get(i)}\t{sisimai.get(i)}\t{r['reply_text']}\n")
