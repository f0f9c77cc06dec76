#!/usr/bin/env python3
"""A fast HTTP receiver for benchmarks: answers every POST at once with 200 and keeps nothing.

It reads each request (HTTP/1.1, kept alive, `Content-Length` bodies), checks the webhook
signature (`X-Sigov-Signature: sha256=HMAC(secret, body)`) when `--secret` is given and answers
`200 OK`, so `sigov mail flush` is measured against sigov's own ceiling, not a receiver's. Prints
the port it listens on, then, when stopped (SIGTERM/SIGINT), the count of requests answered and
of bad signatures on stderr. `--keep-first FILE` writes the first body received (the floor
client replays it).

    python3 scripts/http-sink.py [--port 0] [--secret S] [--keep-first FILE]

The floor: `python3 scripts/http-sink.py --replay BODYFILE --count N --url http://127.0.0.1:PORT/`
posts BODYFILE N times over one kept-alive connection and prints the seconds it took.
"""
import argparse
import asyncio
import hashlib
import hmac
import signal
import socket
import sys
import time

answered = 0
bad_signatures = 0
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


async def session(reader, writer, secret, keep_first):
    global answered, bad_signatures
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            signature = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"x-sigov-signature":
                    signature = value.strip()
            body = await reader.readexactly(length) if length else b""
            if secret is not None:
                want = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
                if not hmac.compare_digest(want, signature):
                    bad_signatures += 1
            if keep_first and answered == 0:
                with open(keep_first, "wb") as f:
                    f.write(body)
            answered += 1
            writer.write(OK)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(args):
    secret = args.secret.encode() if args.secret is not None else None
    server = await asyncio.start_server(
        lambda r, w: session(r, w, secret, args.keep_first), "127.0.0.1", args.port
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(f"answered {answered} bad_signatures {bad_signatures}", file=sys.stderr, flush=True)


def replay(args):
    """The floor: the same body posted `count` times over one kept-alive connection."""
    body = open(args.replay, "rb").read()
    host, _, port = args.url.split("//", 1)[1].split("/", 1)[0].partition(":")
    secret = (args.secret or "").encode()
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.monotonic()
    for i in range(args.count):
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        request = (
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-Sigov-Signature: sha256={signature}\r\nIdempotency-Key: floor-{i}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        sock.sendall(request)
        got = b""
        while not got.endswith(b"ok"):
            chunk = sock.recv(4096)
            if not chunk:
                sys.exit("the receiver closed the connection")
            got += chunk
    print("%.3f" % (time.monotonic() - started))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret")
    p.add_argument("--keep-first")
    p.add_argument("--replay", help="post this body --count times to --url and print the seconds")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--url")
    args = p.parse_args()
    if args.replay:
        replay(args)
    else:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
