#!/usr/bin/env python3
"""Throwaway SMTP relay for sigov's tests (aiosmtpd), on loopback only.

Listens on three ports: plain (no TLS, no AUTH), STARTTLS (TLS required before AUTH, AUTH
required) and implicit TLS (AUTH required), with the certificate given. Every message it accepts
is stored as N.eml (raw) and N.json (envelope, decoded headers and parts). Behaviors for tests:
a recipient containing "reject" gets 550 at RCPT, one containing "tempfail" gets 451;
--slow-data delays the answer to DATA; --no-pipelining leaves PIPELINING out of EHLO. Fault modes after the body: a message to a recipient
containing "blackhole" is stored and never answered (the client times out); one to "hangup" is
stored and the connection is closed without an answer; --hangup-rcpt ADDR (repeatable) does the
same for those exact addresses (a relay that holds one person's mail). Prints one JSON line with the ports, then serves until
killed (or stdin closes, so it never outlives the test that started it).
"""

import argparse
import errno
import asyncio
import email
import json
import os
import socket
import ssl
import sys
import threading
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, directory, slow, name, hangup=(), pipelining=True):
        self.directory = directory
        self.slow = slow
        self.name = name
        self.hangup = {h.lower() for h in hangup}
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd reads pipelined commands in order but does not say so: offered here, as
        # Postfix, Exim and Exchange do (--no-pipelining: a relay that does not).
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # The client pipelined when the command after RCPT (DATA) is already here, unread.
        reader = getattr(server, "_reader", None)
        envelope.pipelined = bool(reader is not None and getattr(reader, "_buffer", b""))
        if "reject" in address:
            return "550 5.1.1 <%s>: recipient rejected by the test relay" % address
        if "tempfail" in address:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.slow:
            await asyncio.sleep(self.slow)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                parts.append({"type": part.get_content_type(), "content": None})
            else:
                # SMTP carries CRLF line ends; tests compare with the text as rendered.
                content = part.get_content().replace("\r\n", "\n")
                parts.append({"type": part.get_content_type(), "content": content})
        with COUNTER_LOCK:
            COUNTER[0] += 1
            n = COUNTER[0]
        record = {
            "n": n,
            "listener": self.name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth": bool(session.authenticated),
            "pipelined": bool(getattr(envelope, "pipelined", False)),
            # aiosmtpd sets session.ssl for STARTTLS only; the "tls" listener is TLS throughout.
            "tls": session.ssl is not None or self.name == "tls",
            "subject": str(msg["subject"]),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "raw_headers": raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace"),
            "parts": parts,
        }
        with open(os.path.join(self.directory, "%06d.eml" % n), "wb") as f:
            f.write(raw)
        tmp = os.path.join(self.directory, ".%06d.json" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.directory, "%06d.json" % n))
        if any("blackhole" in r for r in envelope.rcpt_tos):
            # The relay has the message and never says so.
            await asyncio.sleep(3600)
        if any("hangup" in r or r.lower() in self.hangup for r in envelope.rcpt_tos):
            # The relay has the message and hangs up before answering.
            server.transport.close()
            await asyncio.sleep(3600)
        return "250 2.0.0 Ok: queued as test-%d" % n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


COUNTER = [0]
COUNTER_LOCK = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", default="sigov")
    ap.add_argument("--password", default="s3cret")
    ap.add_argument("--slow-data", type=float, default=0.0)
    ap.add_argument("--hangup-rcpt", action="append", default=[])
    ap.add_argument("--no-pipelining", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        return AuthResult(success=ok, handled=False)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    # Each listener is made by a function of its port: a free port found by binding port 0 can
    # be taken by another process before the listener binds it (tests start relays in
    # parallel), so a listener that meets EADDRINUSE is made again on another free port.
    makers = {
        "plain": lambda port: Controller(
            Handler(a.dir, a.slow_data, "plain", a.hangup_rcpt, not a.no_pipelining), hostname="127.0.0.1", port=port,
        ),
        "starttls": lambda port: Controller(
            Handler(a.dir, a.slow_data, "starttls", (), not a.no_pipelining), hostname="127.0.0.1", port=port,
            tls_context=ctx, require_starttls=True, authenticator=authenticator,
            auth_required=True, auth_require_tls=True,
        ),
        "tls": lambda port: Controller(
            Handler(a.dir, a.slow_data, "tls", (), not a.no_pipelining), hostname="127.0.0.1", port=port,
            # The whole connection is TLS; aiosmtpd 1.4 only counts STARTTLS as TLS for
            # auth_require_tls, so it would hide AUTH here.
            ssl_context=ctx, authenticator=authenticator, auth_required=True,
            auth_require_tls=False,
        ),
    }
    controllers = {}
    ports = {}
    for name, make in makers.items():
        for attempt in range(20):
            c = make(free_port())
            try:
                c.start()
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE or attempt == 19:
                    raise
        controllers[name] = c
        ports[name] = c.port
    print(json.dumps(ports), flush=True)
    try:
        sys.stdin.read()
    finally:
        for c in controllers.values():
            c.stop()


if __name__ == "__main__":
    main()
