#!/usr/bin/env python3
"""Compare `bouncetriage-cli parse --json` on every <mta>/NN.eml with expected.tsv.
usage: compare.py DIR CLI  -> writes DIR/differences.md and prints it"""
import collections, csv, json, os, re, subprocess, sys
d, cli = sys.argv[1], sys.argv[2]
exp = collections.defaultdict(dict)
for r in csv.DictReader(open(os.path.join(d, "expected.tsv")), delimiter="\t"):
    exp[r["file"]][r["recipient"].lower()] = r
files = sorted(exp)
got = collections.defaultdict(list)
for f in files:
    p = subprocess.run([cli, "parse", "--json", os.path.join(d, f)], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.strip():
            got[f].append(json.loads(line))
    if p.returncode not in (0,):
        got[f + "#rc"] = p.returncode

ESC = re.compile(r"^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b")
diffs = []
stats = collections.Counter()
NOTES = {}
def norm(s):
    return re.sub(r"\s+", " ", s).strip()
def file_text(f):
    if f not in NOTES:
        NOTES[f] = norm(open(os.path.join(d, f), encoding="utf-8", errors="replace").read())
    return NOTES[f]
def file_action(f, rcpt):
    m = re.search(r"Final-Recipient: rfc822; ?%s Action: (\w+)" % re.escape(rcpt), file_text(f), re.I)
    m = m or re.search(r"Action: (\w+) Final-Recipient: rfc822; ?%s" % re.escape(rcpt), file_text(f), re.I)
    return m.group(1) if m else "?"
def add(f, rcpt, what, ours, truth):
    if what.startswith("reply text") or what.startswith("basic_code") or what.startswith("enhanced_code"):
        rt = exp[f].get(rcpt, {}).get("reply_text", "")
        note = "reply in file" if norm(rt) in file_text(f) else "reply NOT in file as sent"
    elif what == "dsn_action":
        note = "file says Action: %s" % file_action(f, rcpt)
    else:
        note = ""
    diffs.append((f, rcpt, what, ours, truth, note))
per = collections.defaultdict(collections.Counter)  # per MTA: what the reader got exactly right
for f in files:
    e = exp[f]
    g = {}
    for o in got[f]:
        g.setdefault((o.get("recipient") or "").lower(), []).append(o)
    p = per[f.split("/")[0]]
    p["files"] += 1
    p["recipients"] += len(e)
    p["files with exactly the failed recipients"] += set(g) == set(e)
    for r in set(e) & set(g):
        t, o = e[r], g[r][0]
        rt = t["reply_text"]
        p["reply whole"] += (o.get("reply_text") or "") == rt
        m = ESC.match(rt)
        p["codes (basic and enhanced) of the reply"] += o.get("basic_code") == int(rt[:3]) and (
            not m or o.get("enhanced_code") == m.group(1))
        p["notice kind (dsn_action)"] += o.get("dsn_action") == ("delayed" if t["notice"] == "delayed" else "failed")
    for r in sorted(set(g) - set(e)):
        add(f, r or "(none)", "extra recipient", json.dumps({k: g[r][0].get(k) for k in ("basic_code", "enhanced_code", "reply_text")}), "not a failed recipient")
    for r in sorted(set(e) - set(g)):
        add(f, r, "missing recipient", "-", e[r]["reply_text"])
    for r in sorted(set(e) & set(g)):
        t = e[r]; os_ = g[r]
        stats["pairs"] += 1
        if len(os_) > 1:
            add(f, r, "duplicate result", "%d results" % len(os_), "1")
        o = os_[0]
        rt, ot = t["reply_text"], o.get("reply_text") or ""
        if ot != rt:
            if ot.startswith(rt):
                what = "reply text: extra text appended"
            elif rt.startswith(ot) or ot in rt:
                what = "reply text: truncated"
            else:
                what = "reply text: different"
            add(f, r, what, ot, rt)
        else:
            stats["reply_exact"] += 1
        code = int(rt[:3])
        if o.get("basic_code") != code:
            add(f, r, "basic_code", str(o.get("basic_code")), str(code))
        m = ESC.match(rt)
        ec = o.get("enhanced_code") or ""
        if m and ec != m.group(1):
            add(f, r, "enhanced_code", ec or "null", m.group(1) + " (in reply)")
        elif not m and ec and ec[0] != rt[0] and t["notice"] == "delayed":
            add(f, r, "enhanced_code class", ec, "reply class %sxx" % rt[0])
        want_action = "delayed" if t["notice"] == "delayed" else "failed"
        if o.get("dsn_action") != want_action:
            add(f, r, "dsn_action", str(o.get("dsn_action")), want_action)
        if t["temporary"] == "1" and o.get("hard_bounce"):
            add(f, r, "hard_bounce for a 4xx reply", "true", "reply was temporary (%s)" % rt[:3])
        if t["notice"] == "delayed" and o.get("kind") not in ("delay", "delayed", "warning"):
            add(f, r, "kind for a delay notice", str(o.get("kind")), "delay notice (Action: delayed)")
out = ["| file | recipient | difference | we said | truth | in the file |", "|---|---|---|---|---|---|"]
for f, r, w, ours, truth, note in diffs:
    esc = lambda s: s.replace("|", "\\|")
    out.append("| %s | %s | %s | %s | %s | %s |" % (f, r, w, esc(ours), esc(truth), note))
summary = "%d files, %d expected (file, recipient) pairs, %d found, %d with the exact reply text, %d differences" % (
    len(files), sum(len(v) for v in exp.values()), stats["pairs"], stats["reply_exact"], len(diffs))
table = ["| MTA | " + " | ".join(per[next(iter(per))].keys()) + " |", "|---" * (1 + len(per[next(iter(per))])) + "|"]
for mta in sorted(per):
    table.append("| %s | %s |" % (mta, " | ".join(str(v) for v in per[mta].values())))
text = summary + "\n\n" + "\n".join(table) + "\n\n" + "\n".join(out) + "\n"
open(os.path.join(d, "differences.md"), "w").write(text)
print(text)
