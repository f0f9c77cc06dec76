#!/usr/bin/env python3
"""An HTTP receiver for sigov's channel tests, on loopback.

Every request is appended to --record as one JSON line *before* it is answered (a hang-up
after the body is recorded too). The path says how to answer: /MODE/KIND/NAME, where KIND
(webhook, slack, teams) says what to check and MODE what to do:

  ok        answer 200 (Teams: 202) at once
  500once   the first request of the path gets 500, the next ones ok
  429once   the first gets 429 with Retry-After: 1, the next ones ok
  429long   always 429 with Retry-After: 3600
  hangonce  the first: the body is read, then the connection closed without an answer
  hangup    always so
  never     the body is read, no answer ever comes (the client times out)
  gone      410 with a Slack-like body, `channel_is_archived`

Checks: a webhook's X-Sigov-Signature must be the HMAC-SHA256 of the body with --secret
(else 401); a Teams payload must be a Workflows message whose Adaptive Card validates against
the published schema given by --card-schema (else 400); a Slack payload needs `text` and
`blocks` (else 400). With --honour-idempotency a repeated Idempotency-Key is answered 200 and
recorded as a duplicate (but for the modes that always fail). The first line of stdout is the port.
"""
import argparse
import hashlib
import hmac
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("--record", required=True)
p.add_argument("--secret", default="")
p.add_argument("--card-schema", default="")
p.add_argument("--honour-idempotency", action="store_true")
p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
args = p.parse_args()

validator = None
if args.card_schema:
    import jsonschema

    with open(args.card_schema, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft6Validator(schema)

lock = threading.Lock()
hits = {}
seen_keys = set()
out = open(args.record, "a", encoding="utf-8")


def check(kind, headers, body):
    """Problems found in a request, as strings (empty: it is right)."""
    problems = []
    if kind == "webhook":
        want = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-sigov-signature", ""), want):
            problems.append("bad signature")
        if not headers.get("idempotency-key"):
            problems.append("no Idempotency-Key")
    try:
        doc = json.loads(body)
    except ValueError as e:
        return problems + ["not JSON: %s" % e]
    if kind == "webhook" and doc.get("version") != 1:
        problems.append("version is not 1")
    if kind == "slack" and not (isinstance(doc.get("text"), str) and isinstance(doc.get("blocks"), list)):
        problems.append("slack payload without text and blocks")
    if kind == "teams":
        try:
            att = doc["attachments"][0]
            assert doc["type"] == "message"
            assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
            card = att["content"]
        except (KeyError, IndexError, AssertionError, TypeError):
            return problems + ["not a Workflows message with an Adaptive Card"]
        if validator is not None:
            problems += ["card: %s" % e.message for e in validator.iter_errors(card)]
    return problems


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, text, extra=()):
        data = text.encode()
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        parts = self.path.strip("/").split("/")
        mode = parts[0] if parts else ""
        kind = parts[1] if len(parts) > 1 else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        problems = check(kind, headers, body)
        key = headers.get("idempotency-key", "")
        with lock:
            hits[self.path] = hit = hits.get(self.path, 0) + 1
            duplicate = bool(key) and key in seen_keys
            if key:
                seen_keys.add(key)
            rec = {
                "path": self.path, "mode": mode, "kind": kind, "hit": hit,
                "headers": headers, "body": body.decode("utf-8", "replace"),
                "problems": problems, "duplicate": duplicate, "at": time.time(),
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()
        if problems:
            return self.answer(401 if "bad signature" in problems else 400, "; ".join(problems))
        first = hit == 1
        # A broken receiver stays broken; one that honours Idempotency-Key answers a repeat
        # of what it already took as done.
        if mode not in ("429long", "hangup", "never", "gone") and duplicate and args.honour_idempotency:
            return self.answer(200, "duplicate")
        if mode == "500once" and first:
            return self.answer(500, "server error")
        if mode == "429once" and first:
            return self.answer(429, "slow down", [("Retry-After", "1")])
        if mode == "429long":
            return self.answer(429, "slow down", [("Retry-After", "3600")])
        if mode == "hangup" or (mode == "hangonce" and first):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "never":
            time.sleep(120)
            return
        if mode == "gone":
            return self.answer(410, "channel_is_archived\nmore")
        self.answer(202 if kind == "teams" else 200, "ok" if kind == "slack" else "accepted")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
# Ends with its parent: stdin closes when the test process goes.
sys.stdin.read()
