#!/usr/bin/env python3
"""Splits the collected labelled replies by SOURCE into a development part and a sealed part.

usage: split.py            (reads collected/*.tsv, writes dev.tsv and sealed.tsv beside it)

A source is the site a reply was taken from: for GitHub the repository (owner/name), for Debian's
sources the source package, for any other URL its host without "www.". Every reply of one source lands on the same side, so wording
a site repeats cannot leak from the part we tune on into the part we report on. The side is
decided by a hash of the source name (deterministic: adding rows never moves a source); about
30 % of sources are sealed. Rules and the model are never tuned on sealed.tsv; it is only
scored (../shared/tools/score-replies.py tests/data/replies/sealed.tsv).
"""
import csv, glob, hashlib, os, re, sys
from urllib.parse import urlparse

here = os.path.dirname(os.path.abspath(__file__))
COLS = ["provider", "reply_text", "reason", "family", "spam_related", "action", "note", "source_url", "lang"]
SEALED_SHARE = 30  # percent of sources


def source_of(url):
    u = urlparse(url.strip())
    host = (u.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if host in ("github.com", "raw.githubusercontent.com", "gitlab.com", "sources.debian.org"):
        # A repository (owner/name), or a Debian source package (src/name), is one source.
        parts = [p for p in u.path.split("/") if p]
        source = host + "/" + "/".join(parts[:2]).lower()
        return SAME_AS_UPSTREAM.get(source, source)
    return host


# A Debian source package whose upstream is already a source of the set (its repository or
# site) is that source: the same wording must not sit on both sides of the split.
SAME_AS_UPSTREAM = {
    "sources.debian.org/src/amavisd-new": "gitlab.com/amavis/amavis",
    "sources.debian.org/src/courier": "github.com/svarshavchik/courier",
    "sources.debian.org/src/mailfront": "github.com/bruceg/mailfront",
    "sources.debian.org/src/mailutils": "gnu.org",
    "sources.debian.org/src/mtpolicyd": "github.com/benningm/mtpolicyd",
    "sources.debian.org/src/opendkim": "github.com/trusteddomainproject/opendkim",
    "sources.debian.org/src/proxsmtp": "github.com/androdev4u/proxsmtp",
    "sources.debian.org/src/python3.11": "github.com/python/cpython",
    "sources.debian.org/src/twisted": "github.com/twisted/twisted",
}


def sealed(source):
    return int(hashlib.sha1(source.encode()).hexdigest(), 16) % 100 < SEALED_SHARE


def reading_order(path):
    # The files were read in name order up to pass 19; later passes come after all of them, so a
    # reply a new pass collects again never displaces the earlier copy (which could move a sealed
    # reply to the development side).
    m = re.fullmatch(r"pass(\d+)[a-z]?\.tsv", os.path.basename(path))
    return (m is not None and int(m.group(1)) >= 20, os.path.basename(path))


rows, seen = [], set()
for path in sorted(glob.glob(os.path.join(here, "collected", "*.tsv")), key=reading_order):
    with open(path, encoding="utf-8") as f:
        hdr = f.readline().rstrip("\n").split("\t")
        for n, line in enumerate(f, 2):
            v = line.rstrip("\n").split("\t")
            if len(v) != len(hdr):
                sys.exit(f"{path}:{n}: {len(v)} fields, header has {len(hdr)}")
            r = dict(zip(hdr, v))
            key = " ".join(r["reply_text"].split()).lower()
            if key in seen:
                continue
            seen.add(key)
            rows.append(r)

out = {True: [], False: []}
for r in rows:
    out[sealed(source_of(r["source_url"]))].append(r)
for is_sealed, name in ((False, "dev.tsv"), (True, "sealed.tsv")):
    with open(os.path.join(here, name), "w", encoding="utf-8") as f:
        f.write("\t".join(COLS) + "\n")
        for r in out[is_sealed]:
            f.write("\t".join(r.get(c, "") for c in COLS) + "\n")
srcs = {s: sum(1 for r in rows if source_of(r["source_url"]) == s) for s in {source_of(r["source_url"]) for r in rows}}
ns = sum(1 for s in srcs if sealed(s))
print(f"{len(rows)} distinct replies from {len(srcs)} sources: dev {len(out[False])} rows "
      f"({len(srcs) - ns} sources), sealed {len(out[True])} rows ({ns} sources)")
