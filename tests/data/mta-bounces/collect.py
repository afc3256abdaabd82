#!/usr/bin/env python3
"""Split a local mbox of bounces into one .eml per bounce.
usage: collect.py MTA MBOX PHASE OUTDIR
Files are numbered NN.eml in order (existing files in OUTDIR are kept, numbering continues).
OUTDIR/index.tsv gets one line per file: file, case (from the X-BT-Case header of the
returned original), phase, arrival order of notices for that case in this phase."""
import mailbox, os, re, sys
mta, mbox, phase, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
idx = os.path.join(out, "index.tsv")
n = len([f for f in os.listdir(out) if f.endswith(".eml")])
seen = {}
msgs = []
for m in mailbox.mbox(mbox):
    raw = m.as_bytes()
    # drop the mbox "From " line (as_bytes of mboxMessage does not include it)
    c = re.search(rb"X-BT-Case: (C\d+)", raw) or re.search(rb"Subject: bt \S+ (C\d+)", raw)
    case = c.group(1).decode() if c else "?"
    msgs.append((case, raw))
# stable order by case then arrival
order = sorted(range(len(msgs)), key=lambda i: (msgs[i][0], i))
with open(idx, "a") as f:
    for i in order:
        case, raw = msgs[i]
        n += 1
        seen[case] = seen.get(case, 0) + 1
        name = "%02d.eml" % n
        with open(os.path.join(out, name), "wb") as g:
            g.write(raw)
        f.write("%s/%s\t%s\t%s\t%d\n" % (mta, name, case, phase, seen[case]))
        print(mta, name, case, phase, seen[case])
