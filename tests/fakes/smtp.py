"""A real SMTP server (aiosmtpd) on a free local port, recording what it accepts.

``mode`` switches how it answers, to test delivery against a mail server that misbehaves:
``"accept"``, ``"tempfail"`` (451 on RCPT), ``"busy"`` (421 on RCPT), ``"reject"`` (550 on RCPT),
``"tempfail_data"`` (reads the whole message, keeps a copy in ``refused``, then answers 451). ``reject_recipients``
refuses only those addresses (550). ``stall_next`` makes the next N messages hang after DATA for
``stall_seconds`` (a copy of each lands in ``stalled``; the answer, if anyone is still there to
read it, is a 451), so a test can kill a worker in the middle of a send. ``delay`` slows every
accepted message down. ``hold_answer_next`` makes the next N messages accepted (kept in
``messages``) with the 250 held back for ``stall_seconds``, and ``drop_next`` accepts the next N
and drops the connection instead of answering: the sender cannot know they arrived (the
accepted-but-not-recorded window). ``stop()`` and ``start()`` again bring the server down and back on the
same port.
"""

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.live import free_port


@dataclass
class MailServer:
    port: int = 0
    mode: str = "accept"
    reject_recipients: set[str] = field(default_factory=set)
    stall_next: int = 0
    stall_seconds: float = 60.0
    delay: float = 0.0
    hold_answer_next: int = 0
    drop_next: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    refused: list[EmailMessage] = field(default_factory=list)
    stalled: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.mode == "busy":
            return "421 4.3.2 Service not available, closing transmission channel"
        if self.mode == "reject" or address.lower() in self.reject_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        with self.lock:
            stall = self.stall_next > 0
            if stall:
                self.stall_next -= 1
                self.stalled.append(message)
        if stall:
            await asyncio.sleep(self.stall_seconds)
            return "451 4.3.0 Stalled for a test"
        if self.mode == "tempfail_data":
            with self.lock:
                self.refused.append(message)
            return "451 4.3.0 Try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(message)
            hold, drop = self.hold_answer_next > 0, self.hold_answer_next <= 0 and self.drop_next > 0
            if hold:
                self.hold_answer_next -= 1
            elif drop:
                self.drop_next -= 1
        if drop and isinstance(server.transport, asyncio.Transport):
            server.transport.abort()
        if hold:
            await asyncio.sleep(self.stall_seconds)
        return "250 Message accepted for delivery"

    def start(self) -> "MailServer":
        self.port = self.port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for message in self.messages if address in str(message["To"])]
