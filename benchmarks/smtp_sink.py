"""A local SMTP server that accepts and drops every message, in a process of its own.

``python benchmarks/smtp_sink.py PORT`` serves on 127.0.0.1:PORT until killed. One event loop in
one process: its one-client ceiling (a plain client reusing one connection) is the yardstick the
benchmark sets the app's delivery beside.
"""

import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 Message accepted for delivery"


def main() -> None:
    controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
