#!/usr/bin/env python3
"""Submit one test message per case of cases.tsv through the MTA's sendmail binary.
usage: send_local.py CASES_TSV MTA_NAME SENDMAIL_CMD [CASE...]
The recipient is used as written (no suffix). A message to big.lt.test gets a body of about
3000 bytes, over that hop's 1000-byte limit; one to virus@ carries the EICAR test file as an
attachment (eicar.txt), one to banned@ an attachment whose name amavisd-new bans (invoice.pif)."""
import base64, subprocess, sys, time
# the EICAR anti-virus test file, 68 bytes (written in two halves so that this script itself is
# not taken for it)
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"



def attachment():
    """The MIME header fields and the body template (text, file name twice, base64 data)."""
    return ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"bt-part\"\n",
            "--bt-part\nContent-Type: text/plain\n\n%s\n"
            "--bt-part\nContent-Type: application/octet-stream; name=\"%s\"\n"
            "Content-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s\n"
            "--bt-part--\n")


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
    mime = ""
    if rcpt.startswith("virus@") or rcpt.startswith("banned@"):
        name, data = ("eicar.txt", EICAR.encode()) if rcpt.startswith("virus@") else (
            "invoice.pif", b"not a program, only a name that is banned\n")
        head, parts = attachment()
        mime = head
        body = parts % (body.rstrip("\n"), name, name, base64.b64encode(data).decode())
    msg = ("From: Bounce Tester <tester@localhost>\n"
           "To: %s\n"
           "Subject: bt %s %s\n"
           "Message-ID: <%s.%s.%d@localhost>\n"
           "X-BT-Case: %s\n%s"
           "\n%s") % (rcpt, mta, case, case, mta, int(time.time()), case, mime, body)
    subprocess.run(sendmail + ["-i", "-f", "tester@localhost", rcpt], input=msg.encode(), check=True)
    print(case, rcpt)
