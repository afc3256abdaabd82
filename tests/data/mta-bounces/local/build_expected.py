#!/usr/bin/env python3
"""Write expected.tsv (the truth for every <mta>/NN.eml of this folder) from cases.tsv and
<mta>/index.tsv. usage: build_expected.py DIR
Columns: file, recipient, status (the Status the notice's DSN gives for it; read from the file,
and the file must have one), reason, family, exact (1: the reason is the only right one; 0: only
its family is), case."""
import os, re, sys
d = sys.argv[1]
FAMILY = {}
for fam, reasons in {
        "address": "userunknown hasmoved hostunknown suspend notaccept suppressed",
        "relay": "norelaying securityerror", "auth": "authfailure requireptr",
        "reputation": "blocked badreputation", "policy": "policyviolation rejected filtered",
        "content": "spamdetected virusdetected contenterror notcompliantrfc",
        "capacity": "mailboxfull mesgtoobig exceedlimit systemfull", "rate_limit": "speeding toomanyconn",
        "routing": "networkerror expired failedstarttls", "system": "systemerror mailererror syntaxerror",
        "complaint": "feedback", "not_bounce": "vacation delivered", "unknown": "undefined onhold"}.items():
    for r in reasons.split():
        FAMILY[r] = fam
cases, cols = {}, None
for l in open(os.path.join(d, "cases.tsv")):
    f = l.rstrip("\n").split("\t")
    if l.startswith("# case"):
        cols = [c.strip("# ") for c in f]
    if l.startswith("#") or not l.strip():
        continue
    cases[f[0]] = dict(zip(cols, f))
out = ["file\trecipient\tstatus\treason\tfamily\texact\tcase"]
for mta in sorted(os.listdir(d)):
    idx = os.path.join(d, mta, "index.tsv")
    if not os.path.exists(idx):
        continue
    for l in open(idx):
        f, case = l.split("\t")[:2]
        c = cases[case]
        truth = c[mta].split()
        reason, rcpt = truth[0], (truth[1] if len(truth) > 1 else c["recipient"])
        exact = "0" if reason.endswith("?") else "1"
        reason = reason.rstrip("?")
        text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
        m = re.search(r"Final-Recipient: *rfc822; *%s\s.*?^Status: *(\d\.\d{1,3}\.\d{1,3})" % re.escape(rcpt),
                      text, re.I | re.M | re.S)
        if not m:
            sys.exit("%s: no Status for %s" % (f, rcpt))
        out.append("\t".join([f, rcpt, m.group(1), reason, FAMILY[reason], exact, case]))
open(os.path.join(d, "expected.tsv"), "w").write("\n".join(out) + "\n")
print("expected.tsv: %d rows" % (len(out) - 1))
