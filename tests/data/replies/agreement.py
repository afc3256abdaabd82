#!/usr/bin/env python3
"""How often two labels of the same wording agree: a ceiling for any classifier scored on them.

usage: agreement.py [more labelled TSV files…]   (reads collected/*.tsv and ../shared's fixtures)

Replies whose words are the same once codes, addresses and numbers are taken out ("550 5.1.1
<a@x>: invalid address" and "553 <b@y>: Invalid address") were labelled separately, from
different sources. For each such reply the family it was given is compared with the most common
family of its other copies (leave one out). The share that agrees is how far labels made by
careful people reading the vocabulary agree with each other; a classifier scored against labels
made the same way cannot be expected to agree more often on wordings like these.
"""
import collections, glob, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))
paths = sorted(glob.glob(os.path.join(here, "collected", "*.tsv")))
paths += [os.path.join(here, "..", "..", "..", "..", "shared", "fixtures", "replies.tsv")] + sys.argv[1:]


def norm(t):
    t = t.lower()
    t = re.sub(r"\S+@\S+", " ", t)
    t = re.sub(r"\b[245]\.\d{1,3}\.\d{1,3}\b", " ", t)
    t = re.sub(r"\b[245]\d\d\b", " ", t)
    t = re.sub(r"[\d\W_]+", " ", t)
    return " ".join(t.split())


groups = collections.defaultdict(list)
for p in paths:
    if not os.path.exists(p):
        continue
    with open(p, encoding="utf-8") as f:
        hdr = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(hdr, line.rstrip("\n").split("\t")))
            key = norm(r.get("reply_text", ""))
            if len(key) >= 8:
                groups[key].append(r)

repeated = [g for g in groups.values() if len(g) > 1]
agree = total = 0
for g in repeated:
    for i, r in enumerate(g):
        others = collections.Counter(o["family"] for j, o in enumerate(g) if j != i)
        total += 1
        agree += others.most_common(1)[0][0] == r["family"]
split = [g for g in repeated if len({r["family"] for r in g}) > 1]
print(f"{total} labelled replies whose wording is labelled elsewhere too ({len(repeated)} wordings)")
print(f"family agrees with the other labels of the same wording: {100 * agree / max(total, 1):.1f} %")
print(f"wordings labelled with more than one family: {len(split)}")
for g in split[: int(os.environ.get("SHOW", "0"))]:
    print("  " + " | ".join(sorted({r["family"] + "/" + r["reason"] for r in g})) + " :: " + g[0]["reply_text"][:100])
