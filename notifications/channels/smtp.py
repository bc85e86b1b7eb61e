"""Django's SMTP backend, with every step of a send held to the send's deadline.

smtplib's ``timeout`` bounds each socket operation on its own: connect, the greeting, EHLO,
STARTTLS, login, each command of the message and its final answer could each take that long.
Here each step gets only what is left of the deadline (``deadline.time_left``), so the whole
send ends inside the delivery lease.
"""

import smtplib
import socket
from typing import Any

from django.core.mail.backends import smtp

from notifications.channels import deadline
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
        return super().mail(sender, options)  # type: ignore[misc]

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
    """``django.core.mail.backends.smtp.EmailBackend`` whose sends keep to the send's deadline."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return DeadlineSMTPSSL if self.use_ssl else DeadlineSMTP
