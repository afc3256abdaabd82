#!/usr/bin/env python3
"""score.py CLI DIR... [--show]: parse each DIR's *.eml with CLI and Debian's Sisimai; compare with DIR/truth.tsv
(result = the recipient reported, status, reason, family). A second line counts a record's
original_recipient (the alias a forward's failure was mailed to) as naming that recipient too."""
import sys, json, subprocess, glob, os, collections
FAM={}
for f,rs in [('address','userunknown hasmoved hostunknown suspend notaccept suppressed'),('relay','norelaying securityerror'),('auth','authfailure requireptr'),('reputation','blocked badreputation'),('policy','policyviolation rejected filtered'),('content','spamdetected virusdetected contenterror notcompliantrfc'),('capacity','mailboxfull mesgtoobig exceedlimit systemfull'),('rate_limit','speeding toomanyconn'),('routing','networkerror expired failedstarttls'),('system','systemerror mailererror syntaxerror'),('complaint','feedback'),('not_bounce','vacation delivered'),('unknown','undefined onhold')]:
    for r in rs.split(): FAM[r]=f
cli=sys.argv[1]; show='--show' in sys.argv
dirs=[d for d in sys.argv[2:] if d!='--show']
tot=collections.Counter(); miss=[]
for d in dirs:
    rows=[l.rstrip('\n').split('\t') for l in open(os.path.join(d,'truth.tsv'),encoding='utf-8')]
    # Columns by name: a set may add `mailed` (the alias the sender wrote to, when the bounce names
    # another address as the failed one); the rest are file, recipient, status, reply_code, reason.
    cols=rows[0]
    def col(r,name): i=cols.index(name) if name in cols else None; return r[i] if i is not None and i<len(r) else ''
    truth=[[col(r,'file'),col(r,'recipient'),col(r,'status'),col(r,'reply_code'),col(r,'reason'),col(r,'mailed')] for r in rows[1:] if len(r)>=5]
    files=sorted(glob.glob(os.path.join(d,'*.eml')))
    ours={}; mailed={}
    for f in files:
        out=subprocess.run([cli,'parse','--json',f],capture_output=True,text=True).stdout
        for l in out.splitlines():
            o=json.loads(l); ours[(os.path.basename(f),(o.get('recipient') or '').lower())]=o
            mailed[(os.path.basename(f),(o.get('original_recipient') or o.get('recipient') or '').lower())]=o
    sis={}
    for f in files:
        p=subprocess.run(['perl','-MSisimai','-e','my $v = Sisimai->make($ARGV[0], delivered => 1) // []; print $_->recipient->address, "\\t", $_->reason, "\\t", $_->deliverystatus, "\\n" for @$v',f],capture_output=True,text=True)
        for l in p.stdout.splitlines():
            a,r,s=(l.split('\t')+['',''])[:3]; sis[(os.path.basename(f),a.lower())]=(r,s)
    for t in truth:
        if len(t)<5: continue
        f,rc,st,code,reason,alias=t[:6]; k=(f,rc.lower())
        tot['n']+=1
        o=ours.get(k); s=sis.get(k)
        # Either address: the failed one or the one mailed, as the truth or our record names them.
        m=o or mailed.get(k) or (alias and (ours.get((f,alias.lower())) or mailed.get((f,alias.lower()))))
        if m:
            tot['m_result']+=1
            tot['m_status']+= (m.get('enhanced_code') or '')==st
            tot['m_reason']+= m.get('reason')==reason
            tot['m_family']+= FAM.get(m.get('reason'))==FAM.get(reason)
        if o:
            tot['ours_result']+=1
            tot['ours_status']+= (o.get('enhanced_code') or '')==st
            tot['ours_reason']+= o.get('reason')==reason
            tot['ours_family']+= FAM.get(o.get('reason'))==FAM.get(reason)
        if s:
            tot['sis_result']+=1
            tot['sis_status']+= s[1]==st
            tot['sis_reason']+= s[0]==reason
            tot['sis_family']+= FAM.get(s[0])==FAM.get(reason)
        if not o or o.get('reason')!=reason or (o.get('enhanced_code') or '')!=st:
            miss.append(f"{d.split('/')[-1]}/{f} {rc} want {st} {reason} | ours {(o or {}).get('enhanced_code')} {(o or {}).get('reason')} | sisimai {s} | {((o or {}).get('reply_text') or '')[:110]}")
    extra=[k for k in ours if not any((t[0],t[1].lower())==k for t in truth if len(t)>1)]
    tot['ours_extra']+=len(extra)
    truthkeys={(t[0],t[1].lower()) for t in truth if len(t)>1}|{(t[0],t[5].lower()) for t in truth if t[5]}
    tot['m_extra']+=sum(1 for k,o in ours.items() if k not in truthkeys and (k[0],(o.get('original_recipient') or '').lower()) not in truthkeys)
n=tot['n']
pc=lambda x: f"{100*tot[x]/n:.1f}%"
print(f"{n} recipients: ours result {pc('ours_result')} status {pc('ours_status')} reason {pc('ours_reason')} family {pc('ours_family')} extra {tot['ours_extra']} | sisimai result {pc('sis_result')} status {pc('sis_status')} reason {pc('sis_reason')} family {pc('sis_family')}")
print(f"  the address mailed counted too: ours result {pc('m_result')} status {pc('m_status')} reason {pc('m_reason')} family {pc('m_family')} extra {tot['m_extra']}")
if show:
    for m in miss: print(m)
