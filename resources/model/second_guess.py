#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""When should the model overrule a rule? Measured on replies neither had seen.

The development split cannot answer it: the rules were written on it, so on it they look right
and the model looks worse than it is. This script goes back to builds made before a collecting
pass had rules written for it, and takes that pass's development rows:

  * the old build's classifier (`diagnose --lines --json`) gives what the rules said then;
  * a model trained by today's trainer on the development rows of the earlier passes only
    (plus the fixtures, with or without the rule examples, which may paraphrase the pass)
    gives what the model alone says (`trainmodel --predict`);
  * for each threshold, it counts the rows where the model (that sure, of another family)
    would overrule the old verdict, and how many of them become right or wrong;
  * and, where the old rules were silent, how many rows the model answers, and rightly, at
    each fallback threshold (the model document's `threshold`).

The gate is read from the old build's JSON: a rule's priority is today's (resources/), plus
10 when its evidence follows "<party> rejected:" (the classifier's cause bonus); a rule whose
code agrees is one with `code:` evidence; a rule held to some codes is one with "codes" today.
Sealed rows are never read.

  python3 resources/model/second_guess.py [--work DIR]

Builds the two old commits' CLIs under DIR (default /tmp/bt-second-guess; ~8 minutes each on
two cores, reused when present). Needs build/release/app/bouncetriage-trainmodel.
"""
import argparse
import csv
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
REPLIES = os.path.join(REPO, 'tests', 'data', 'replies')
SHARED = os.environ.get('BT_SHARED_DIR', os.path.join(REPO, '..', 'shared'))
TRAINER = os.path.join(REPO, 'build', 'release', 'app', 'bouncetriage-trainmodel')
# (the build before a pass's rules, the passes it never saw, the earlier passes' files left out
# of the model's training: everything from the first unseen pass on)
RUNS = [
    ('8f1813e', ['pass13', 'pass14', 'pass15', 'pass16', 'pass17', 'pass18', 'pass19'], 'pass1[3-9]'),
    ('da55b75^', ['pass9', 'pass10', 'pass11', 'pass12'], 'pass9|pass1[0-9]'),
]
THRESHOLDS = [0.6, 0.7, 0.8, 0.9, 0.95]
FALLBACK_THRESHOLDS = [0.1, 0.15, 0.2, 0.25]
SURE = 70
CAUSE_BONUS = 10
CAUSE = re.compile(r'(?i)\b(?:address|host|command|recipient|sender|helo|client|message)\s+(?:rejected|refused|denied):')

csv.field_size_limit(1 << 30)


def read_tsv(path):
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def write_tsv(path, header, rows):
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\t'.join(header) + '\n')
        for r in rows:
            f.write('\t'.join(r[k] for k in header) + '\n')


def keys(pattern):
    out = set()
    for path in glob.glob(os.path.join(REPLIES, 'collected', '*.tsv')):
        name = os.path.basename(path)[:-4]
        if re.fullmatch(pattern, name):
            out |= {(r['reply_text'], r['source_url']) for r in read_tsv(path)[1]}
    return out


def old_cli(commit, work):
    build = os.path.join(work, 'build-' + commit.replace('^', '-parent'))
    cli = os.path.join(build, 'app', 'bouncetriage-cli')
    if os.path.exists(cli):
        return cli
    src = os.path.join(work, 'src-' + commit.replace('^', '-parent'))
    if not os.path.exists(src):
        subprocess.run(['git', '-C', REPO, 'worktree', 'add', '--detach', src, commit], check=True)
    subprocess.run(['cmake', '-S', src, '-B', build, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
                    '-DBT_SHARED_DIR=' + os.path.abspath(SHARED)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(['cmake', '--build', build, '--target', 'bouncetriage-cli'], check=True, stdout=subprocess.DEVNULL)
    # The built CLI is all that is needed again: the checkout is not left registered in the repository.
    subprocess.run(['git', '-C', REPO, 'worktree', 'remove', '--force', src], check=True)
    return cli


def priorities():
    """Today's priority of every rule and lexicon entry, and the ids of those held to some codes."""
    out, coded = {}, set()
    for path in glob.glob(os.path.join(REPO, 'resources', 'rules', '*.json')):
        for r in json.load(open(path, encoding='utf-8'))['rules']:
            out[r['id']] = r.get('priority') or 0
            if r.get('codes'):
                coded.add(r['id'])
    for path in glob.glob(os.path.join(REPO, 'resources', 'lexicon', '*.json')):
        doc = json.load(open(path, encoding='utf-8'))
        for c in doc['concepts']:
            out['lex.%s.%s' % (doc['language'], c['id'])] = c.get('priority') or 0
            if c.get('codes'):
                coded.add('lex.%s.%s' % (doc['language'], c['id']))
    return out, coded


def overruled(old, family, probability, threshold, prio, coded):
    """True when the classifier's second guess (of this family) would replace this old verdict."""
    if old['confidence'] not in ('rule', 'code') or probability < threshold:
        return False
    if family in (old['family'], 'unknown'):
        return False
    if old['confidence'] == 'code':
        return True
    rules = [e for e in old['evidence'] if not e['rule'].startswith(('code:', 'blocklist:', 'party:', 'model:'))]
    if not rules or any(e['rule'].startswith('code:') for e in old['evidence']):
        return False  # a blocklist or the refused party decided, or the code agrees
    if any(e['rule'] in coded for e in rules):
        return False  # a rule for some codes only
    cause = CAUSE.search(old['reply_text'])
    best = max(prio.get(e['rule'], 0) + (CAUSE_BONUS if cause and e['start'] >= cause.end() else 0) for e in rules)
    return best < SURE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', default='/tmp/bt-second-guess')
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    header, dev = read_tsv(os.path.join(REPLIES, 'dev.tsv'))
    prio, coded = priorities()
    for commit, passes, later in RUNS:
        unseen = keys('|'.join(passes))
        left_out = keys(later)
        rows = [r for r in dev if (r['reply_text'], r['source_url']) in unseen]
        train = [r for r in dev if (r['reply_text'], r['source_url']) not in left_out]
        tag = commit.replace('^', '-parent')
        evalp, trainp = (os.path.join(args.work, f'{tag}-{n}.tsv') for n in ('eval', 'train'))
        write_tsv(evalp, header, rows)
        write_tsv(trainp, header, train)
        cli = old_cli(commit, args.work)
        text = ''.join(r['reply_text'] + '\n' for r in rows)
        old = [json.loads(l) for l in subprocess.run([cli, 'diagnose', '--lines', '--json'], input=text,
                                                     capture_output=True, text=True, check=True).stdout.splitlines()]
        base = sum(o['family'] == r['family'] for o, r in zip(old, rows))
        print(f'{commit}: {len(rows)} development rows of {", ".join(passes)}; the old build right on {base} '
              f'({100 * base / len(rows):.1f} %); model trained on {len(train)} earlier rows')
        for flag in ([], ['--no-rule-examples']):
            out = subprocess.run([TRAINER, *flag, '--predict', evalp, os.path.join(SHARED, 'fixtures', 'replies.tsv'),
                                  trainp], capture_output=True, text=True, check=True).stdout.splitlines()
            # (reason, probability, family) per row, as trainmodel --predict prints them
            guesses = [(g.split('\t')[0], float(g.split('\t')[1]), g.split('\t')[2]) for g in out]
            alone = sum(f == r['family'] for (_, _, f), r in zip(guesses, rows))
            print(f'  model {"without" if flag else "with"} rule examples: alone {100 * alone / len(rows):.1f} %')
            # Where the old rules were silent (the old build said unknown or asked its own model):
            # how many of those rows the model answers, and rightly, at each fallback threshold.
            silent = [(g, r) for o, g, r in zip(old, guesses, rows) if o['confidence'] in ('none', 'model')]
            for t in FALLBACK_THRESHOLDS:
                answered = [(f, r) for (reason, p, f), r in silent if p >= t and reason != 'undefined']
                right = sum(f == r['family'] for f, r in answered)
                print(f'    rules silent on {len(silent)}: answered at {t}: {len(answered)}, right {right}')
            for t in THRESHOLDS:
                changed = net = 0
                for o, (_, p, f), r in zip(old, guesses, rows):
                    if overruled(o, f, p, t, prio, coded):
                        changed += 1
                        net += (f == r['family']) - (o['family'] == r['family'])
                print(f'    overrule at {t}: {changed} changed, net {net:+d} right')
    return 0


if __name__ == '__main__':
    sys.exit(main())
