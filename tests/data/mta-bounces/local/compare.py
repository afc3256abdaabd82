#!/usr/bin/env python3
"""Compare `bouncetriage-cli parse --json` on every file of expected.tsv with the truth:
the failed recipients, the status the notice gives, the reason and its family.
usage: compare.py DIR CLI  -> prints a table (file, recipient, status, reason, family: ours / truth)"""
import collections, csv, json, os, subprocess, sys
d, cli = sys.argv[1], sys.argv[2]
exp = collections.defaultdict(dict)
for r in csv.DictReader(open(os.path.join(d, "expected.tsv")), delimiter="\t"):
    exp[r["file"]][r["recipient"].lower()] = r
ok = collections.Counter()
rows = ["| file | recipient | status ours/truth | reason ours/truth | family ours/truth | wrong |", "|---|---|---|---|---|---|"]
for f in sorted(exp):
    p = subprocess.run([cli, "parse", "--json", os.path.join(d, f)], capture_output=True, text=True)
    got = {}
    for line in p.stdout.splitlines():
        if line.strip():
            o = json.loads(line)
            got.setdefault((o.get("recipient") or "").lower(), o)
    mta = f.split("/")[0]
    ok[mta, "files"] += 1
    ok[mta, "exact recipients"] += set(got) == set(exp[f])
    for extra in sorted(set(got) - set(exp[f])):
        rows.append("| %s | %s | | | | extra recipient |" % (f, extra or "(none)"))
    for r, t in sorted(exp[f].items()):
        o = got.get(r)
        if not o:
            rows.append("| %s | %s | | | | missing recipient |" % (f, r))
            continue
        wrong = []
        if o.get("enhanced_code") != t["status"]:
            wrong.append("status")
        if o.get("family") != t["family"]:
            wrong.append("family")
        if o.get("reason") != t["reason"]:
            wrong.append("reason" if t["exact"] == "1" else "(reason, not exact)")
        ok[mta, "status"] += "status" not in wrong
        ok[mta, "family"] += "family" not in wrong
        ok[mta, "reason"] += o.get("reason") == t["reason"]
        rows.append("| %s | %s | %s / %s | %s / %s | %s / %s | %s |" % (
            f, r, o.get("enhanced_code"), t["status"], o.get("reason"), t["reason"] + ("" if t["exact"] == "1" else "?"),
            o.get("family"), t["family"], " ".join(wrong)))
print("\n".join(rows))
for mta in sorted({m for m, _ in ok}):
    print("%s: %d files, exact recipients %d, status %d, family %d, reason %d" % (
        mta, ok[mta, "files"], ok[mta, "exact recipients"], ok[mta, "status"], ok[mta, "family"], ok[mta, "reason"]))
