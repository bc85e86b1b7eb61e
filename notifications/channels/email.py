"""Email: one outbox row becomes one message, text with an HTML alternative, through Django's mail.

Every attempt carries the row's stable Message-ID, so a mail server or client that sees the same
message twice (the one unavoidable window: sent, then the worker died before recording it) can
drop the repeat. Customer mail carries a one-click unsubscribe (RFC 2369 and RFC 8058).

The HTML alternative is drawn here, at send time, from the row's text and layout (see
``notifications.wording.html.email_html``); a row that carries ready-made ``html_body`` sends that instead.
"""

import logging
import smtplib

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend

from commitments.status_links import unsubscribe_url
from notifications.channels import mail_connections
from notifications.channels.deadline import DeadlinePassed
from notifications.channels.errors import DeliveryFailure, PermanentFailure, TransientFailure
from notifications.models import Audience, MessageKind, Notification
from notifications.reply_addresses import reply_address
from notifications.wording.html import email_html

logger = logging.getLogger(__name__)


def build_email(notification: Notification, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": notification.message_id,
        # RFC 3834: an automatic message; well-behaved responders do not answer it with another.
        "Auto-Submitted": "auto-generated",
    }
    reply_to: list[str] = []
    if notification.audience == Audience.CUSTOMER and notification.commitment is not None:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(notification.commitment)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # The language the text is written in (RFC 3282); a message made before languages, English.
        headers["Content-Language"] = (notification.layout or {}).get("language") or settings.LANGUAGE_CODE
        # A reply comes back on its commitment (see notifications/inbound_email.py).
        address = reply_address(notification.commitment.pk)
        if address:
            reply_to = [address]
    subject = notification.subject
    if notification.kind == MessageKind.ALERT:
        # An alert tells the owner that another message failed (a subject with a line break among
        # the reasons): it must get through itself, so its subject is put on one line.
        subject = " ".join(subject.split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=reply_to,
        headers=headers,
        connection=connection,
    )
    html = notification.html_body or email_html(
        subject=notification.subject, text=notification.body, layout=notification.layout
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def classify(error: Exception) -> DeliveryFailure:
    """Transient or permanent, by what the mail server said (or failed to say)."""
    if isinstance(error, DeliveryFailure):
        return error
    if isinstance(error, BadHeaderError):
        # A header no mail server will take (a line break in the subject): no retry can help.
        return PermanentFailure(f"The message cannot be sent as written: {error}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        reason = "; ".join(f"{code} {_text(text)}" for code, text in answers) or "recipient refused"
        if answers and all(400 <= code < 500 for code, _ in answers):
            return TransientFailure(f"SMTP {reason}")
        return PermanentFailure(f"SMTP {reason}")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # Our credentials, not this message: every message would fail alike, so keep them all
        # pending until an operator fixes EMAIL_URL instead of failing the whole outbox.
        return TransientFailure(f"SMTP login refused ({error.smtp_code} {_text(error.smtp_error)}); check EMAIL_URL")
    if isinstance(error, smtplib.SMTPConnectError):
        return TransientFailure(f"SMTP server would not talk to us: {error.smtp_code} {_text(error.smtp_error)}")
    if isinstance(error, smtplib.SMTPResponseException):
        reason = f"SMTP {error.smtp_code} {_text(error.smtp_error)}"
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(reason)
        return TransientFailure(reason)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransientFailure(f"SMTP server disconnected: {error}")
    if isinstance(error, AnymailRecipientsRefused):
        return PermanentFailure(f"The email service refused the recipient: {error}")
    if isinstance(error, AnymailAPIError):
        # An ESP's HTTP API (anymail's backends): as for any HTTP service, 4xx is permanent.
        status = error.status_code
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            return PermanentFailure(f"The email service answered {status}: {error.describe_response()}")
        return TransientFailure(f"The email service failed: {status or type(error).__name__}")
    if isinstance(error, DeadlinePassed):
        return TransientFailure(f"SMTP send stopped: {error}")
    if isinstance(error, TimeoutError):
        return TransientFailure(f"SMTP server did not answer within {settings.EMAIL_TIMEOUT}s")
    if isinstance(error, OSError):
        return TransientFailure(f"Could not reach the SMTP server: {error.strerror or error}")
    return TransientFailure(f"{type(error).__name__}: {error}")


class EmailChannel:
    """Sends a batch of messages over one mail server connection, kept across batches (``mail_connections``)."""

    def __init__(self) -> None:
        self._connection: BaseEmailBackend | None = None
        self._reused = False

    def send(self, notification: Notification) -> None:
        """Send one message, or raise TransientFailure / PermanentFailure."""
        try:
            if self._connection is None:
                self._connection, self._reused = mail_connections.take()
            try:
                accepted = self._connection.send_messages([build_email(notification)])
            except (smtplib.SMTPServerDisconnected, ConnectionError) as stale:
                if not self._reused or mail_connections.message_data_sent(self._connection):
                    # A fresh connection, or the server had the message's DATA (it may have accepted
                    # it before the connection went): not a stale connection, a failed attempt.
                    raise
                # The kept connection was dropped by the server while idle: nothing of this message
                # was accepted on it. Once more, on a fresh connection.
                logger.debug("Kept mail connection was closed by the server (%s); opening a new one", stale)
                self._drop()
                self._connection = mail_connections.open_new()
                accepted = self._connection.send_messages([build_email(notification)])
            self._reused = False  # It has carried a message: a later failure is not a stale connection.
        except Exception as error:
            # Whatever state the SMTP session is in now, the next message starts on a fresh one.
            self._drop()
            raise classify(error) from error
        if not accepted:
            self._drop()
            raise TransientFailure("The mail backend accepted nothing and gave no reason")

    def close(self) -> None:
        """Hand the connection back for the next batch (it is closed after a while idle)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            mail_connections.give_back(connection)

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            mail_connections.close(connection)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
