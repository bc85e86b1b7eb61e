"""Which commitment and message a log line is about, on every line written while handling them.

Delivery wraps each send in ``about(notification)``; ``LogContextFilter`` (in LOGGING) copies the
ids onto every record written meanwhile, by our code or a library's, so JSON log lines
(``LOG_FORMAT=json``) carry ``commitment_id`` and ``notification_id`` where they are known.
Only ids: never an address, a body or a credential.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # LOGGING loads this module before the apps (and their models) are ready.
    from notifications.models import Notification

_ids: ContextVar[dict[str, int]] = ContextVar("log_ids", default={})  # noqa: B039 (never mutated)


@contextmanager
def about(notification: "Notification") -> Iterator[None]:
    ids = {"commitment_id": notification.commitment_id, "notification_id": notification.pk}
    token = _ids.set({name: value for name, value in ids.items() if value is not None})  # a digest has no commitment
    try:
        yield
    finally:
        _ids.reset(token)


class LogContextFilter(logging.Filter):
    """Adds ``commitment_id`` and ``notification_id`` to a record, unless it names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _ids.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True
