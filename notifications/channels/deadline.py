"""A deadline for one whole send: connect, greeting, login, the message and the answer.

Socket timeouts bound each read or write; a server that answers every step slowly could still
hold a send for many of them. Delivery sets a deadline inside the row's lease around each send
(``within``), and the channels give every network step only the time left (``time_left``), so a
send is over, one way or the other, before another worker may take the row over.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("send_deadline", default=None)


class DeadlinePassed(TimeoutError):
    """The send's time inside the lease ran out before it was done."""


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Give the sends in this block ``seconds`` in all (on this worker's monotonic clock)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left(cap: float) -> float:
    """Seconds the next network step may take: ``cap`` (a channel's own timeout) or less.

    Raises DeadlinePassed once nothing is left, so no step starts after the deadline.
    """
    deadline = _deadline.get()
    if deadline is None:
        return cap
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("the send ran out of its time inside the delivery lease")
    return min(cap, left)


def passed() -> bool:
    """Whether this block's deadline has come (never, outside ``within``)."""
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() >= deadline
