"""STOP is about our sending number, not about one team: the one rule for texts a number stopped.

A customer belongs to a team, and the same phone number may be on several teams' records. When
that number texts STOP (or START), the carrier blocks (or allows) every text from our number to
it, whichever team writes, so the choice is kept per number (``TextOptOut``) and copied onto
every customer record with that number, now and whenever a record is given the number later.
Routing and delivery then read ``Customer.sms_opted_out`` alone, with no extra query per message.
"""

from django.db import transaction
from django.utils import timezone

from commitments.models import Customer, TextOptOut


def number_stopped_texts(phone: str) -> bool:
    """True when this E.164 number texted STOP and has not texted START since."""
    return bool(phone) and TextOptOut.objects.filter(phone=phone).exists()


def texts_stopped_for(*, phone: str, chosen_by_customer: bool) -> bool:
    """What ``sms_opted_out`` must be on a record with this number: the customer's own choice, or STOP."""
    return chosen_by_customer or number_stopped_texts(phone)


def opt_out_after_new_number(*, old_phone: str, new_phone: str, opted_out: bool) -> bool:
    """``sms_opted_out`` for a record whose number changes: STOP stays with its number, a choice with the person."""
    chosen_by_customer = opted_out and not number_stopped_texts(old_phone)
    return texts_stopped_for(phone=new_phone, chosen_by_customer=chosen_by_customer)


@transaction.atomic
def stop_texts_to_number(*, phone: str, keyword: str) -> list[Customer]:
    """Record the number's STOP and mark every team's record of it; returns the records newly stopped."""
    TextOptOut.objects.get_or_create(phone=phone, defaults={"keyword": keyword})
    changed = list(Customer.objects.select_for_update().filter(phone=phone, sms_opted_out=False).order_by("pk"))
    Customer.objects.filter(pk__in=[customer.pk for customer in changed]).update(
        sms_opted_out=True, updated_at=timezone.now()
    )
    return changed


@transaction.atomic
def resume_texts_to_number(*, phone: str) -> list[Customer]:
    """The number texted START: texts are allowed again on every team's record; returns those changed."""
    TextOptOut.objects.filter(phone=phone).delete()
    changed = list(Customer.objects.select_for_update().filter(phone=phone, sms_opted_out=True).order_by("pk"))
    Customer.objects.filter(pk__in=[customer.pk for customer in changed]).update(
        sms_opted_out=False, updated_at=timezone.now()
    )
    return changed
