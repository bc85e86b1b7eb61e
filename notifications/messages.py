"""What each message says. (First version: plain wording; the engine's templates replace it.)"""

from dataclasses import dataclass

from accounts.models import User
from commitments.models import Commitment


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str = ""


def render_customer_message(commitment: Commitment, kind: str, *, message: str, channel: str) -> Content:
    subject = f"{commitment.summary} ({kind.replace('_', ' ')})"
    text = f"{message or commitment.summary}\n\nFollow it here: {commitment.status_url}\n"
    return Content(subject=subject, text=text)


def render_staff_message(commitment: Commitment, kind: str, *, message: str, recipient: User) -> Content:
    subject = f"[{kind}] {commitment.summary}"
    return Content(subject=subject, text=f"{message}\n")
