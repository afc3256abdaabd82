#!/usr/bin/env python3
"""Write expected.tsv (the truth for every <mta>/NN.eml) from cases.tsv, replies.tsv and
<mta>/index.tsv, and check every expected reply against what the scripted server logged
(<mta>/sink.log).  usage: build_expected.py DIR"""
import json, os, re, sys
d = sys.argv[1]
STAGE = {"rcpt": "rcpt", "data": "end_of_data", "datacmd": "data", "mail": "mail",
         "greeting": "greeting", "helo": "ehlo"}
table = {}
for l in open(os.path.join(d, "replies.tsv")):
    if l.startswith("#") or not l.strip():
        continue
    k, st, rep = l.rstrip("\n").split("\t")
    table[k] = (st, " ".join(rep.split("\\n")))
cases = {}
for l in open(os.path.join(d, "cases.tsv")):
    if l.startswith("#") or not l.strip():
        continue
    c, rc = l.rstrip("\n").split("\t")[:2]
    addrs = []
    for a in rc.split(","):
        loc, dom = a.split("@")
        addrs.append(("%s-%s@%s" % (loc, c.lower(), dom), loc))
    cases[c] = addrs

def truth(case):
    addrs = cases[case]
    rows = []
    # message-level failures (DATA, end of DATA): every recipient accepted at RCPT gets it
    accepted = [a for a, k in addrs if k not in table or table[k][0] != "rcpt"]
    msg = [table[k] for a, k in addrs if k in table and table[k][0] in ("data", "datacmd", "mail", "greeting", "helo")]
    for a, k in addrs:
        if k in table and table[k][0] == "rcpt":
            rows.append((a, table[k][1], "rcpt"))
    if msg:
        st, rep = msg[0]
        for a in accepted:
            rows.append((a, rep, STAGE[st]))
    return rows

out = ["file\trecipient\treply_text\tstage\ttemporary\tnotice"]
problems = 0
for mta in sorted(os.listdir(d)):
    idx = os.path.join(d, mta, "index.tsv")
    if not os.path.exists(idx):
        continue
    log = [json.loads(l) for l in open(os.path.join(d, mta, "sink.log"))]
    # a fifth column names the one recipient a notice is about (dma: one notice per recipient,
    # each sent in its own SMTP session, so a message-level reply reaches only that recipient)
    rows = [(l.rstrip("\n").split("\t") + [""])[:5] for l in open(idx)]
    count = {}
    for f, c, ph, n, only in rows:
        count[(c, ph, only)] = count.get((c, ph, only), 0) + 1
    for f, c, ph, n, only in rows:
        notice = "delayed" if int(n) < count[(c, ph, only)] else "failed"
        for rcpt, rep, st in truth(c):
            if only and rcpt != only:
                continue
            temp = "1" if rep[0] == "4" else "0"
            out.append("\t".join([f, rcpt, rep, st, temp, notice]))
            ok = any(e.get("reply") == rep and (e.get("rcpt") == rcpt or rcpt in e.get("rcpts", [])
                     or e.get("stage") in ("greeting", "helo", "mail")) for e in log)
            if not ok:
                problems += 1
                print("NOT IN SINK LOG:", f, rcpt, rep, file=sys.stderr)
open(os.path.join(d, "expected.tsv"), "w").write("\n".join(out) + "\n")
print("expected.tsv: %d rows, %d not confirmed by sink logs" % (len(out) - 1, problems))
