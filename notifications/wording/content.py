"""A written message: what the render functions give the outbox, the API and the status page."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from notifications.wording.html import email_html

SUBJECT_LIMIT = 200


@dataclass(frozen=True)
class Content:
    """A written message: subject and text, and for an email the ``layout`` its HTML is drawn from."""

    subject: str
    text: str
    layout: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def html(self) -> str:
        """The HTML version of an email (empty for a text or a call script)."""
        return email_html(subject=self.subject, text=self.text, layout=self.layout)
