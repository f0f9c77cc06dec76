#!/usr/bin/env python3
"""A throwaway IMAP server (Debian's Dovecot) for sigov's reply tests.

Generates a configuration in DIR: a passwd-file user `alertes` (password `imap-s3cret`), Maildir
mail under DIR, a certificate for localhost signed by a throwaway CA (DIR/ca.pem), IMAP with
STARTTLS and IMAPS on free loopback ports. Starts Dovecot in the foreground, waits for its ports,
prints one JSON line: {"starttls": PORT, "imaps": PORT, "user", "password", "ca"}. Dovecot stops
when this script's stdin closes (its parent, the test process, is gone).

    python3 tests/imap/dovecot.py DIR
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

d = os.path.abspath(sys.argv[1])
os.makedirs(d, exist_ok=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


starttls, imaps = free_port(), free_port()
# Mail is owned by an unprivileged account (Dovecot never runs mail processes as root).
owner = "nobody"
uid, gid = pwd.getpwnam(owner).pw_uid, pwd.getpwnam(owner).pw_gid
home = os.path.join(d, "home")
os.makedirs(home, exist_ok=True)
os.chown(home, uid, gid)
os.chmod(d, 0o755)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
run("openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "60",
    "-subj", "/CN=sigov IMAP test CA")
run("openssl", "req", *ec, "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr", "-subj", "/CN=localhost")
with open(f"{d}/ext", "w") as f:
    f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
run("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
    "-CAcreateserial", "-out", f"{d}/server.pem", "-days", "60", "-extfile", f"{d}/ext")
with open(f"{d}/passwd", "w") as f:
    f.write("alertes:{PLAIN}imap-s3cret::::::\n")
for sub in ("run", "state"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
conf = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{home}/%u/Maildir
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {starttls}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
with open(f"{d}/dovecot.conf", "w") as f:
    f.write(conf)
dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
proc = subprocess.Popen([dovecot, "-F", "-c", f"{d}/dovecot.conf"], stdout=subprocess.DEVNULL,
                        stderr=open(f"{d}/dovecot.err", "w"))
deadline = time.time() + 30
while time.time() < deadline:
    if proc.poll() is not None:
        sys.exit("dovecot stopped: " + open(f"{d}/dovecot.err").read() + open(f"{d}/dovecot.log").read()
                 if os.path.exists(f"{d}/dovecot.log") else "dovecot stopped")
    try:
        socket.create_connection(("127.0.0.1", starttls), timeout=1).close()
        socket.create_connection(("127.0.0.1", imaps), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    proc.kill()
    sys.exit("dovecot did not listen within 30 s")
print(json.dumps({"starttls": starttls, "imaps": imaps, "user": "alertes",
                  "password": "imap-s3cret", "ca": f"{d}/ca.pem", "dir": d}), flush=True)
try:
    sys.stdin.read()
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
