"""A real SMTP server for the email tests (aiosmtpd): every message it
accepts is written, as received, to its own file in MAILDIR, named after
the order it arrived in and its first recipient, so a test reads the
mailbox of the address it made. Rejects nothing; keeps nothing in memory.

    python smtp-server.py PORT MAILDIR
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller

counter = itertools.count()


class Maildir:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        rcpt = envelope.rcpt_tos[0].replace("/", "_")
        tmp = os.path.join(self.path, f".{n:08d}.tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content)
        # Renamed when complete: a reader never sees half a message.
        os.rename(tmp, os.path.join(self.path, f"{n:08d}-{rcpt}.eml"))
        return "250 OK"


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Maildir(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on 127.0.0.1:{port}, writing to {maildir}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
