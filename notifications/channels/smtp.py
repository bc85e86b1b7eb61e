"""Django's SMTP backend, with every step of a send held to the send's deadline.

smtplib's ``timeout`` bounds each socket operation on its own: connect, the greeting, EHLO,
STARTTLS, login, each command of the message and its final answer could each take that long.
Here each step gets only what is left of the deadline (``deadline.time_left``), so the whole
send ends inside the delivery lease.
"""

import re
import smtplib
import socket
from email import generator
from email._policybase import Compat32
from functools import lru_cache
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.message import EmailMessage, sanitize_address

from notifications.channels import deadline, mime
from notifications.channels.deadline import DeadlinePassed, time_left

# smtplib's own default when no timeout is given: no limit at all. Ours is never that.
FALLBACK_TIMEOUT = 60.0


class _StepsWithinDeadline:
    timeout: Any
    sock: socket.socket | None
    # Set once a message's DATA command goes out: from then on the server may have accepted it, so
    # a broken connection is not "stale" and the message must not be tried again on a new one.
    data_sent = False

    def mail(self, sender: str, options: Any = ()) -> tuple[int, bytes]:
        self.data_sent = False
        if not _plain(sender) or any(option.lower() == "smtputf8" for option in options):
            return super().mail(sender, options)  # type: ignore[misc]
        return self._command("mail", "FROM", sender, options)

    def rcpt(self, recipient: str, options: Any = ()) -> tuple[int, bytes]:
        if not _plain(recipient):
            return super().rcpt(recipient, options)  # type: ignore[misc]
        return self._command("rcpt", "TO", recipient, options)

    def _command(self, verb: str, field: str, address: str, options: Any) -> tuple[int, bytes]:
        # smtplib's own command, without parsing a plain address to quote it (``_plain``).
        extra = " " + " ".join(options) if options and self.does_esmtp else ""  # type: ignore[attr-defined]
        self.putcmd(verb, f"{field}:<{address}>{extra}")  # type: ignore[attr-defined]
        return self.getreply()

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_sent = True
        return super().data(msg)  # type: ignore[misc]

    def _cap(self) -> float:
        return float(self.timeout) if isinstance(self.timeout, int | float) else FALLBACK_TIMEOUT

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(host, port, time_left(self._cap()))  # type: ignore[misc]

    def send(self, s: Any) -> None:
        if self.sock is not None:
            self.sock.settimeout(time_left(self._cap()))
        super().send(s)  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        if self.sock is not None:
            self.sock.settimeout(time_left(self._cap()))
        try:
            return super().getreply()  # type: ignore[misc]
        except smtplib.SMTPServerDisconnected as error:
            # smtplib reports a read that timed out as a disconnection; say it was our deadline.
            if deadline.passed():
                raise DeadlinePassed(f"the send ran out of its time inside the delivery lease ({error})") from error
            raise


class DeadlineSMTP(_StepsWithinDeadline, smtplib.SMTP):
    pass


class DeadlineSMTPSSL(_StepsWithinDeadline, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """``django.core.mail.backends.smtp.EmailBackend`` whose sends keep to the send's deadline.

    It also writes a message's bytes for less: our messages' shape directly (``mime``), any other
    with Django's own writer but the common headers taken directly (``QuickFolding``); the sender's
    address, the same on every message, is checked once, a plain recipient's not parsed. Otherwise
    ``_send`` is Django's own.
    """

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return DeadlineSMTPSSL if self.use_ssl else DeadlineSMTP

    def _send(self, email_message: EmailMessage) -> bool:
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = _sanitized_sender(email_message.from_email, encoding)
        recipients = [_sanitized_recipient(address, encoding) for address in email_message.recipients()]
        raw = mime.message_bytes(email_message, QUICK_FOLDING_CRLF) or message_bytes(email_message.message())
        assert self.connection is not None  # send_messages opened it before calling us.
        try:
            self.connection.sendmail(from_email, recipients, raw)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


class QuickFolding(Compat32):
    """The policy Django's messages are written with (compat32), the common case taken directly.

    A header whose value is printable ASCII that fits on its line comes out as ``Name: value``, and one
    that is a single word too long to fit (no space to fold at) as ``Name: `` and the word on a
    continuation line: the very bytes the ``Header`` class makes of them, after a great deal of
    work per header. Anything else (non-ASCII, several lines, words to fold between, trailing
    whitespace, which ``Header`` drops) folds as before.
    """

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        # Printable ASCII only: ``Header`` breaks lines at more than CR and LF (a vertical tab, a
        # form feed: ``str.splitlines``), and folds at tabs as at spaces.
        if isinstance(value, str) and value and value.isascii() and value.isprintable() and value[-1] != " ":
            if len(name) + 2 + len(value) <= (self.max_line_length or 1_000_000):
                return f"{name}: {value}{self.linesep}"
            if " " not in value and self.max_line_length:
                # One word too long for the header's line (a List-Unsubscribe link, a long
                # Message-ID): with nowhere to fold it, ``Header`` puts it alone on the next line.
                return f"{name}: {self.linesep} {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


QUICK_FOLDING = QuickFolding()
QUICK_FOLDING_CRLF = QUICK_FOLDING.clone(linesep="\r\n")


def message_bytes(message: Any) -> bytes:
    """What Django's ``message.as_bytes(linesep="\\r\\n")`` gives, written with ``QuickFolding``."""
    out = BytesIO()
    generator.BytesGenerator(out, mangle_from_=False, policy=QUICK_FOLDING).flatten(message, linesep="\r\n")
    return out.getvalue()


@lru_cache(maxsize=16)
def _sanitized_sender(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


# A bare address in plain ASCII (an RFC 5322 dot-atom before the @, after it labels of letters,
# digits and hyphens of at most 63): what Django's ``sanitize_address`` gives back unchanged, and
# smtplib's ``quoteaddr`` in angle brackets, each after parsing it with the email package's
# address parsers (together about a tenth of a worker's time a message).
# Anything else (a display name, quotes, non-ASCII, an IDN domain) goes through Django's own.
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9-]{1,63}"
PLAIN_ADDRESS = re.compile(rf"{ATOM}(?:\.{ATOM})*@{LABEL}(?:\.{LABEL})*")


def _plain(address: object) -> bool:
    """A bare ASCII address: Django's ``sanitize_address`` and smtplib's ``quoteaddr`` take it as it is."""
    return isinstance(address, str) and PLAIN_ADDRESS.fullmatch(address) is not None


def _sanitized_recipient(address: str, encoding: str) -> str:
    return address if _plain(address) else sanitize_address(address, encoding)
