"""What a service raises when it refuses: callers turn these into a 400, a 409 or a form error."""

from typing import Any


class InvalidInput(Exception):
    """Bad input, field by field, nested as the request body is: ``{"customer": {"phone": [...]}}``."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


class IllegalMove(Exception):
    """A lifecycle move the commitment's current status does not allow."""


class NotAllowed(Exception):
    """The person acting may see the commitment but may not make this change."""
