#!/usr/bin/env python3
"""Split a local mbox of bounces into one .eml per bounce.
usage: collect.py MTA MBOX PHASE OUTDIR [RCPT_HEADER]
Files are numbered NN.eml in order (existing files in OUTDIR are kept, numbering continues).
OUTDIR/index.tsv gets one line per file: file, case (from the X-BT-Case header of the
returned original), phase, arrival order of notices for that case in this phase.
RCPT_HEADER is for an MTA that sends one notice per recipient (dma: one queue item and one SMTP
session per recipient): the header of the notice's own envelope that names that recipient
(dma writes X-Original-To:). It is added as a fifth column, and the arrival order is then counted
per case and recipient."""
import mailbox, os, re, sys
mta, mbox, phase, out = sys.argv[1:5]
rcpt_header = sys.argv[5] if len(sys.argv) > 5 else None
os.makedirs(out, exist_ok=True)
idx = os.path.join(out, "index.tsv")
n = len([f for f in os.listdir(out) if f.endswith(".eml")])
seen = {}
msgs = []
for m in mailbox.mbox(mbox):
    raw = m.as_bytes()
    # drop the mbox "From " line (as_bytes of mboxMessage does not include it)
    c = re.search(rb"X-BT-Case: ([CLA]\d+)", raw) or re.search(rb"Subject: bt \S+ ([CLA]\d+)", raw)
    case = c.group(1).decode() if c else "?"
    rcpt = ""
    if rcpt_header:
        rcpt = (m.get(rcpt_header) or "").strip().strip("<>").lower()
    msgs.append((case, raw, rcpt))
# stable order by case (then recipient) then arrival
order = sorted(range(len(msgs)), key=lambda i: (msgs[i][0], msgs[i][2], i))
with open(idx, "a") as f:
    for i in order:
        case, raw, rcpt = msgs[i]
        n += 1
        seen[(case, rcpt)] = seen.get((case, rcpt), 0) + 1
        name = "%02d.eml" % n
        with open(os.path.join(out, name), "wb") as g:
            g.write(raw)
        extra = "\t" + rcpt if rcpt_header else ""
        f.write("%s/%s\t%s\t%s\t%d%s\n" % (mta, name, case, phase, seen[(case, rcpt)], extra))
        print(mta, name, case, phase, seen[(case, rcpt)], rcpt)
