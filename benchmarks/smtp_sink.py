"""A local SMTP server that accepts and drops every message, in processes of its own.

``python benchmarks/smtp_sink.py [PORT]`` serves on 127.0.0.1:PORT (a free port if none is given)
and says ``ready PORT``, until stopped (SIGTERM). Like Postfix's ``smtpd``, each connection gets a
process of its own: one client is served by one event loop in one process (the one-client
ceiling, the yardstick the benchmark sets the app's delivery beside), and two workers sending at
once are served side by side, not one command at a time by a single event loop both wait on.
"""

import asyncio
import ctypes
import os
import signal
import socket
import sys
import traceback

from aiosmtpd.smtp import SMTP, Envelope, Session

PR_SET_PDEATHSIG = 1  # prctl's option number, from <linux/prctl.h>


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 Message accepted for delivery"


def serve(connection: socket.socket) -> None:
    """One client's connection, to its end, in this (forked) process."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    closed = loop.create_future()

    class OneConnection(SMTP):
        def connection_lost(self, error: Exception | None) -> None:
            super().connection_lost(error)
            if not closed.done():
                closed.set_result(None)

    async def run() -> None:
        # SMTPUTF8 on, as aiosmtpd's own Controller serves by default.
        protocol = lambda: OneConnection(Sink(), hostname="127.0.0.1", enable_SMTPUTF8=True, loop=loop)  # noqa: E731
        await loop.connect_accepted_socket(protocol, connection)
        await closed

    loop.run_until_complete(run())


def end_with(parent: int) -> None:
    """This process ends when ``parent`` does, even killed outright (Linux's parent-death signal)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # The server ended before the signal was asked for.
        os._exit(0)


def stop(*_: object) -> None:
    """Stopped: end every connection's process (they share the server's process group) and reap them."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    try:
        while True:
            os.waitpid(-1, 0)  # Returns once every child has ended (SIGCHLD ignored: they reap themselves).
    except ChildProcessError:
        pass
    os._exit(0)


def main() -> None:
    os.setpgrp()  # A group of its own, so stopping it never signals whoever started it.
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), backlog=64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # Finished connections' processes are reaped at once.
    signal.signal(signal.SIGTERM, stop)
    server = os.getpid()
    print(f"ready {listener.getsockname()[1]}", flush=True)
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            listener.close()
            code = 0
            try:
                end_with(server)
                serve(connection)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        connection.close()


if __name__ == "__main__":
    main()
