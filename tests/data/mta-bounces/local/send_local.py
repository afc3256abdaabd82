#!/usr/bin/env python3
"""Submit one test message per case of cases.tsv through the MTA's sendmail binary.
usage: send_local.py CASES_TSV MTA_NAME SENDMAIL_CMD [CASE...]
The recipient is used as written (no suffix). A case whose kind mentions the next hop's limit
(big.lt.test) gets a body of about 3000 bytes, over that hop's 1000-byte limit."""
import subprocess, sys, time
cases_tsv, mta, sendmail = sys.argv[1], sys.argv[2], sys.argv[3].split()
only = set(sys.argv[4:])
for raw in open(cases_tsv):
    if raw.startswith("#") or not raw.strip():
        continue
    case, rcpt = raw.rstrip("\n").split("\t")[:2]
    if only and case not in only:
        continue
    body = "Test message for case %s.\n" % case
    if rcpt.endswith("@big.lt.test"):
        body += "".join("padding line %03d to make the message larger than the next hop's limit\n" % i
                        for i in range(40))
    msg = ("From: Bounce Tester <tester@localhost>\n"
           "To: %s\n"
           "Subject: bt %s %s\n"
           "Message-ID: <%s.%s.%d@localhost>\n"
           "X-BT-Case: %s\n"
           "\n%s") % (rcpt, mta, case, case, mta, int(time.time()), case, body)
    subprocess.run(sendmail + ["-i", "-f", "tester@localhost", rcpt], input=msg.encode(), check=True)
    print(case, rcpt)
