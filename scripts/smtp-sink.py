#!/usr/bin/env python3
"""A fast SMTP sink for benchmarks: accepts every message at once and keeps nothing.

It answers what a relay answers (220, EHLO with PIPELINING, 250 to MAIL/RCPT, 354 then 250 to
DATA, 221 to QUIT) without parsing or storing, so `sigov mail flush` is measured against
sigov's own ceiling, not the test relay's. Prints the port it listens on, then the count of
messages accepted when it is stopped (SIGTERM/SIGINT).

    python3 scripts/smtp-sink.py [--port 0]
"""
import argparse
import asyncio
import signal
import sys

accepted = 0


async def session(reader, writer):
    global accepted
    writer.write(b"220 sink ESMTP\r\n")
    in_data = False
    try:
        while True:
            if in_data:
                # The whole body at once, up to its terminator: one read a message, not one a
                # line, so that the sink's own CPU stays small beside sigov's.
                try:
                    await reader.readuntil(b"\r\n.\r\n")
                except asyncio.LimitOverrunError:
                    break
                in_data = False
                accepted += 1
                writer.write(b"250 2.0.0 queued\r\n")
                await writer.drain()
                continue
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(session, "127.0.0.1", port, limit=1 << 24)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()
    print(accepted, file=sys.stderr, flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    asyncio.run(main(p.parse_args().port))
