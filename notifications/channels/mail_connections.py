"""One mail server connection per worker process, kept open across batches and tasks.

Opening an SMTP session (TCP, greeting, EHLO, STARTTLS, login) costs several round trips: paid for
every batch, and for every message that a create's own task sends alone, it was most of the time
a message took. The connection a batch used is handed back here and the next batch (or task)
takes it again, while it has been idle less than ``IDLE_LIMIT`` and the mail settings are the
same. A connection is never shared by two senders at once: taking it removes it from here.

A kept connection the server has meanwhile dropped fails on its next use before any message is
accepted; ``EmailChannel`` then opens a fresh one and tries that message once more (only when the
message's DATA never reached the server: see ``message_data_sent``).

Connections are opened through the deadline-aware SMTP backend (``channels.smtp``), and every
step on a kept one (each command of a message, its answer) is held to the deadline of the send
that is using it then: connect, EHLO and login of a new connection and each message all end
inside the current send's lease.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

# Mail servers drop an idle client after a minute or more (Postfix: 300 s); stay well inside that.
IDLE_LIMIT = 30.0

_lock = threading.Lock()
_kept: tuple[tuple[object, ...], BaseEmailBackend, float] | None = None


def _settings_key() -> tuple[object, ...]:
    return tuple(
        getattr(settings, name, None)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
        )
    )


def take() -> tuple[BaseEmailBackend, bool]:
    """An open connection, and whether it was kept from an earlier batch (True) or just opened."""
    global _kept
    with _lock:
        kept, _kept = _kept, None
    if kept is not None:
        key, connection, idle_since = kept
        if key == _settings_key() and time.monotonic() - idle_since < IDLE_LIMIT:
            return connection, True
        close(connection)
    return open_new(), False


def open_new() -> BaseEmailBackend:
    """A new connection, opened (connect, EHLO, STARTTLS, login) within the current send's deadline."""
    connection = get_connection(
        backend_with_deadline(settings.EMAIL_BACKEND), fail_silently=False, timeout=settings.EMAIL_TIMEOUT
    )
    connection.open()
    return connection


def backend_with_deadline(backend: str) -> str:
    """Django's SMTP backend is swapped for ours, which keeps the whole send to its deadline."""
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        return "notifications.channels.smtp.EmailBackend"
    return backend


def message_data_sent(connection: BaseEmailBackend) -> bool:
    """Whether the last message on this connection got as far as DATA (so it may have been accepted).

    Backends other than our SMTP one cannot say; they never hold a connection that goes stale.
    """
    session = getattr(connection, "connection", None)
    return bool(getattr(session, "data_sent", False))


def give_back(connection: BaseEmailBackend) -> None:
    """Keep a connection that is in a clean state (its last message went through) for the next batch."""
    global _kept
    with _lock:
        spare, _kept = _kept, (_settings_key(), connection, time.monotonic())
    if spare is not None:
        close(spare[1])


def close(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:  # A broken session cannot be closed politely; it is dropped all the same.
        logger.debug("Closing the mail connection failed", exc_info=True)


def close_kept() -> None:
    """Close the kept connection, if any (a worker shutting down, a test changing mail settings)."""
    global _kept
    with _lock:
        kept, _kept = _kept, None
    if kept is not None:
        close(kept[1])
