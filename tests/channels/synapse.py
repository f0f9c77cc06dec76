#!/usr/bin/env python3
"""A throwaway Matrix homeserver (Synapse from PyPI, SQLite) for sigov's channel tests.

Run with the Python of a virtualenv that has matrix-synapse. It generates a configuration in
DIR, starts Synapse on a free loopback port, registers two users through the shared-secret
admin API (`sigov`, the bot sigov posts as, and `reader`, who reads the room back), and prints
one JSON line: {"url", "bot_token", "reader_token"}. Rooms are made per test through the client
API. Synapse stops when this script's stdin closes (its parent, the test process, is gone).
"""
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
cfg_path = os.path.join(d, "homeserver.yaml")
subprocess.run(
    [sys.executable, "-m", "synapse.app.homeserver", "--server-name", "localhost",
     "--config-path", cfg_path, "--data-directory", d, "--generate-config",
     "--report-stats=no"],
    check=True, stdout=subprocess.DEVNULL, cwd=d)
with open(cfg_path, encoding="utf-8") as f:
    cfg = yaml.safe_load(f)
cfg["listeners"] = [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                     "tls": False, "x_forwarded": False,
                     "resources": [{"names": ["client"], "compress": False}]}]
cfg["trusted_key_servers"] = []
cfg["suppress_key_server_warning"] = True
cfg["enable_metrics"] = False
cfg["log_config"] = None
# The tests post hundreds of messages in seconds: generous limits (429 is tested elsewhere).
for k in ("rc_message", "rc_registration", "rc_login", "rc_joins", "rc_invites",
          "rc_admin_redaction"):
    cfg[k] = {"per_second": 1000, "burst_count": 1000}
cfg["rc_login"] = {k: {"per_second": 1000, "burst_count": 1000}
                   for k in ("address", "account", "failed_attempts")}
cfg["rc_joins"] = {k: {"per_second": 1000, "burst_count": 1000} for k in ("local", "remote")}
cfg["rc_invites"] = {k: {"per_second": 1000, "burst_count": 1000}
                     for k in ("per_room", "per_user", "per_issuer")}
cfg.pop("log_config", None)
with open(cfg_path, "w", encoding="utf-8") as f:
    yaml.safe_dump(cfg, f)
log = open(os.path.join(d, "synapse.out"), "w")
proc = subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "-c", cfg_path],
                        stdout=log, stderr=subprocess.STDOUT, cwd=d)
url = "http://127.0.0.1:%d" % port


def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


deadline = time.time() + 120
while True:
    try:
        call("GET", "/_matrix/client/versions")
        break
    except Exception:
        if proc.poll() is not None or time.time() > deadline:
            log.flush()
            sys.stderr.write(open(os.path.join(d, "synapse.out")).read()[-4000:])
            sys.exit("synapse did not start")
        time.sleep(0.3)


def register(user):
    nonce = call("GET", "/_synapse/admin/v1/register")["nonce"]
    secret = cfg["registration_shared_secret"].encode()
    mac_hex = hmac.new(secret, b"\x00".join(
        p.encode() for p in (nonce, user, "pw-" + user, "notadmin")), hashlib.sha1).hexdigest()
    r = call("POST", "/_synapse/admin/v1/register",
             {"nonce": nonce, "username": user, "password": "pw-" + user, "admin": False,
              "mac": mac_hex})
    return r["access_token"]


print(json.dumps({"url": url, "bot_token": register("sigov"),
                  "reader_token": register("reader")}), flush=True)
try:
    sys.stdin.read()
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
