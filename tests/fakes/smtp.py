"""A real SMTP server (aiosmtpd) on a free local port, recording what it accepts.

``mode`` switches how it answers, to test delivery against a mail server that misbehaves:
``"accept"``, ``"tempfail"`` (451 on RCPT), ``"reject"`` (550 on RCPT).
"""

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
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.mode == "reject":
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        with self.lock:
            self.messages.append(message)
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
