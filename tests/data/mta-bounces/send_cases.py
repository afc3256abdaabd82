#!/usr/bin/env python3
"""Inject one small test message per case (cases.tsv) through the MTA's sendmail binary.
usage: send_cases.py CASES_TSV MTA_NAME [SENDMAIL_CMD | smtp:HOST:PORT] [CASE...]
Each recipient local part gets the case id as suffix: u01@bt.test in case C17 -> u01-c17@bt.test"""
import subprocess, sys, time
cases_tsv, mta = sys.argv[1], sys.argv[2]
sendmail = (sys.argv[3] if len(sys.argv) > 3 else "/usr/sbin/sendmail").split()
only = set(sys.argv[4:])
for raw in open(cases_tsv):
    if raw.startswith("#") or not raw.strip():
        continue
    case, rcpts = raw.rstrip("\n").split("\t")[:2]
    if only and case not in only:
        continue
    addrs = []
    for a in rcpts.split(","):
        local, dom = a.split("@")
        addrs.append("%s-%s@%s" % (local, case.lower(), dom))
    msg = ("From: Bounce Tester <tester@localhost>\n"
           "To: %s\n"
           "Subject: bt %s %s\n"
           "Message-ID: <%s.%s.%d@localhost>\n"
           "X-BT-Case: %s\n"
           "\n"
           "Test message for case %s.\n") % (addrs[0], mta, case, case, mta, int(time.time()), case, case)
    if sendmail[0].startswith("smtp:"):  # smtp:HOST:PORT submits over SMTP instead
        import smtplib
        _, host, port = sendmail[0].split(":")
        with smtplib.SMTP(host, int(port)) as s:
            refused = s.sendmail("tester@localhost", addrs, msg.replace("\n", "\r\n").encode())
    else:
        subprocess.run(sendmail + ["-i", "-f", "tester@localhost"] + addrs, input=msg.encode(), check=True)
    print(case, " ".join(addrs))
