"""The message that asks a customer to confirm a new email address or phone number.

It goes to the new address itself (that is the point: only its holder can confirm it), with a
link good for that confirmation alone, and is an outbox row like any other message, listed on
the commitment. Its words are plain text: no customer-typed text but their name goes in, and a
text message is never HTML. It is written in the customer's language, like every message to them.
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from commitments.languages import catalog_for
from commitments.models import Channel, Commitment, ContactChange
from notifications.models import Audience, DeliveryStatus, MessageKind
from notifications.outbox import OutboxRow, Outgoing


def send_contact_check(*, commitment: Commitment, change: ContactChange, confirm_url: str) -> None:
    """Queue the confirmation to the new address (call inside the change's transaction)."""
    now = timezone.now()
    channel = Channel.EMAIL if change.field == ContactChange.Field.EMAIL else Channel.SMS
    context = {
        "team_name": commitment.team.name,
        "first_name": commitment.customer.name.split()[0] if commitment.customer.name.split() else "",
        "confirm_url": confirm_url,
    }
    template = "email" if channel == Channel.EMAIL else "sms"
    language = commitment.customer.language_code
    with translation.override(catalog_for(language)):
        subject = (
            render_to_string("notifications/contact_check/subject.txt", context).strip()
            if channel == Channel.EMAIL
            else ""
        )
        body = render_to_string(f"notifications/contact_check/{template}.txt", context).strip()
    outgoing = Outgoing(now=now)
    outgoing.messages.append(
        OutboxRow(
            commitment_id=commitment.pk,
            kind=MessageKind.CONTACT_CHECK,
            customer_kind="",
            channel=channel,
            audience=Audience.CUSTOMER,
            recipient=change.value,
            recipient_user_id=None,
            subject=subject,
            body=body,
            # Plain text, but an email still says which language it is in (Content-Language).
            layout={"language": language} if channel == Channel.EMAIL else {},
            status=DeliveryStatus.PENDING,
            scheduled_for=now,
            next_attempt_at=now,
            escalate_at=None,
            idempotency_key=f"{commitment.pk}:contact_check:{change.pk}",
            created_at=now,
        )
    )
    outgoing.save()
