"""The channels an outbox row can go out on: email, text, and (never automatically) phone.

``Channels`` sends a batch: it keeps one mail connection and one SMS backend for the batch and
closes them at the end. Every failure comes out as TransientFailure or PermanentFailure.
"""

from types import TracebackType

from commitments.models import Channel
from notifications.channels.email import EmailChannel
from notifications.channels.errors import DeliveryFailure, PermanentFailure, TransientFailure
from notifications.channels.sms import SmsChannel
from notifications.models import Notification

__all__ = ["Channels", "DeliveryFailure", "PermanentFailure", "TransientFailure"]


class Channels:
    def __init__(self) -> None:
        self.email = EmailChannel()
        self.sms = SmsChannel()

    def send(self, notification: Notification) -> None:
        if notification.channel == Channel.EMAIL:
            self.email.send(notification)
        elif notification.channel == Channel.SMS:
            self.sms.send(notification)
        elif notification.channel == Channel.PHONE:
            # Nobody is called by a machine: a customer who prefers calls gets a call task for their
            # owner instead. A phone row in the outbox is a mistake upstream; say so, do not guess.
            raise PermanentFailure(
                "Phone calls are not placed automatically: the owner must call the customer (a call task "
                "by email is how the engine asks for one)"
            )
        else:
            raise PermanentFailure(f"Unknown channel {notification.channel!r}")

    def close(self) -> None:
        self.email.close()

    def __enter__(self) -> "Channels":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
