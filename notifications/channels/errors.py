"""The two ways a send can fail, as delivery acts on them.

A transient failure (a refused connection, a timeout, SMTP 4xx, HTTP 5xx) leaves the message
pending for another try after a backoff; a permanent one (SMTP 5xx, HTTP 4xx, an invalid or
unsubscribed number) fails it for good, puts it on the commitment's timeline and tells the owner.
"""

# Long enough to keep a mail server's or provider's explanation, short enough for a list column.
MAX_ERROR_LENGTH = 1000


class DeliveryFailure(Exception):
    """A message did not go out; ``str(error)`` is what staff read in ``last_error``."""

    permanent = False

    def __init__(self, reason: str) -> None:
        reason = " ".join(reason.split())
        super().__init__(reason[:MAX_ERROR_LENGTH])

    @property
    def reason(self) -> str:
        return str(self)


class TransientFailure(DeliveryFailure):
    """Worth trying again later: the other side is down, slow, or asked us to wait."""


class PermanentFailure(DeliveryFailure):
    """Trying again would fail the same way: the address, number or message was refused."""

    permanent = True
