#!/usr/bin/env python3
"""Scripted receiving SMTP server for making real bounces (Python 3 stdlib only).

Listens on 127.0.0.1 on several ports:
  BASE   (default 2525): normal server; RCPT/DATA replies chosen per recipient
                         local part from replies.tsv (keys u*, m*, d*, x*).
                         Unknown local parts are accepted (250).
  BASE+1 (2526): every connection gets the 'greeting' reply (g01) and is closed.
  BASE+2 (2527): MAIL FROM gets the 'mail' reply (f01).
  BASE+3 (2528): EHLO and HELO get the 'helo' reply (h01).

The local part may carry a suffix after '-' or '.', e.g. u01-postfix@bt.test
uses key u01.  Multi-line replies are sent line by line with CRLF.
Every reply sent is logged as one JSON line to the log file (argument 2).
Messages are not stored.

usage: smtp_sink.py REPLIES_TSV LOGFILE [BASE_PORT]
"""
import json
import re
import socketserver
import sys
import threading
import time

REPLIES_TSV = sys.argv[1]
LOGFILE = sys.argv[2]
BASE = int(sys.argv[3]) if len(sys.argv) > 3 else 2525

TABLE = {}  # key -> (stage, [lines])
for raw in open(REPLIES_TSV, encoding="utf-8"):
    if raw.startswith("#") or not raw.strip():
        continue
    key, stage, reply = raw.rstrip("\n").split("\t")
    TABLE[key] = (stage, reply.split("\\n"))

BY_STAGE = {}
for k, (st, lines) in TABLE.items():
    BY_STAGE.setdefault(st, []).append(lines)

LOCK = threading.Lock()


def log(**kw):
    kw["t"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    with LOCK, open(LOGFILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(kw) + "\n")


def key_of(addr):
    local = addr.split("@", 1)[0].lower()
    return re.split(r"[-.+]", local, maxsplit=1)[0]


class Handler(socketserver.StreamRequestHandler):
    timeout = 120

    def send(self, lines, **kw):
        if isinstance(lines, str):
            lines = [lines]
        data = "".join(l + "\r\n" for l in lines)
        self.wfile.write(data.encode("utf-8"))
        self.wfile.flush()
        if lines[0][0] in "45":
            log(port=self.port, reply=" ".join(lines), **kw)

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        self.port = self.server.server_address[1]
        mode = self.port - BASE
        try:
            if mode == 1:
                self.send(BY_STAGE["greeting"][0], stage="greeting")
                return
            self.send("220 mx.bt.test ESMTP scripted test server")
            mail_from, rcpts = None, []
            while True:
                cmd = self.readline()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    if mode == 3:
                        self.send(BY_STAGE["helo"][0], stage="helo", cmd=cmd)
                        continue
                    if verb == "EHLO":
                        self.send(["250-mx.bt.test", "250-PIPELINING", "250-8BITMIME",
                                   "250-SIZE 10240000", "250 ENHANCEDSTATUSCODES"])
                    else:
                        self.send("250 mx.bt.test")
                elif verb == "MAIL":
                    m = re.search(r"<([^>]*)>", cmd)
                    mail_from = m.group(1) if m else ""
                    rcpts = []
                    if mode == 2:
                        self.send(BY_STAGE["mail"][0], stage="mail", sender=mail_from)
                        mail_from = None
                        continue
                    self.send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    m = re.search(r"<([^>]*)>", cmd)
                    rcpt = m.group(1) if m else ""
                    if mail_from is None:
                        self.send("503 5.5.1 Error: need MAIL command")
                        continue
                    ent = TABLE.get(key_of(rcpt))
                    if ent and ent[0] == "rcpt":
                        self.send(ent[1], stage="rcpt", rcpt=rcpt, sender=mail_from)
                    else:
                        rcpts.append(rcpt)
                        self.send("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        self.send("554 5.5.1 Error: no valid recipients")
                        continue
                    datacmd = [TABLE[key_of(r)] for r in rcpts
                               if key_of(r) in TABLE and TABLE[key_of(r)][0] == "datacmd"]
                    if datacmd:
                        self.send(datacmd[0][1], stage="datacmd", rcpts=rcpts, sender=mail_from)
                        mail_from, rcpts = None, []
                        continue
                    self.send("354 End data with <CR><LF>.<CR><LF>")
                    size = 0
                    while True:
                        l = self.readline()
                        if l == ".":
                            break
                        size += len(l) + 2
                    data = [TABLE[key_of(r)] for r in rcpts
                            if key_of(r) in TABLE and TABLE[key_of(r)][0] == "data"]
                    if data:
                        self.send(data[0][1], stage="data", rcpts=rcpts, sender=mail_from)
                    else:
                        self.send("250 2.0.0 Ok: queued as TEST%d" % int(time.time() * 1000 % 1e9))
                        log(port=self.port, reply="250 accepted", stage="accepted", rcpts=rcpts,
                            sender=mail_from)
                    mail_from, rcpts = None, []
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.send("250 2.0.0 Ok")
                elif verb == "NOOP":
                    self.send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                else:
                    self.send("502 5.5.2 Error: command not recognized")
        except (EOFError, ConnectionError, TimeoutError, OSError):
            return


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    servers = [Server(("127.0.0.1", BASE + i), Handler) for i in range(4)]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("listening on 127.0.0.1:%d-%d" % (BASE, BASE + 3), flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
