"""Housekeeping: what is kept only as long as it is useful, pruned by a periodic task.

- Idempotency records (an API POST's key and answer): a client retries within minutes, not
  days; after a day the record is only a copy of a customer's details to lose.
- API tokens past their expiry.
- Contact changes a customer never confirmed, once their link has expired.

And one mend: the search words of commitments logged or edited by a previous release's processes
while a deploy rolled out (``commitments.services.search_text.mend_search_words``).
"""

from datetime import timedelta
from typing import NamedTuple

from celery import shared_task
from django.utils import timezone

from accounts.api_tokens import prune_expired_api_tokens
from commitments.customer.services import CONTACT_CHANGE_LIFETIME
from commitments.models import ContactChange, IdempotentRequest
from commitments.services.search_text import mend_search_words

IDEMPOTENCY_RECORD_LIFETIME = timedelta(days=1)


class Pruned(NamedTuple):
    idempotency_records: int
    api_tokens: int
    contact_changes: int
    search_words_mended: int


def prune() -> Pruned:
    now = timezone.now()
    records, _ = IdempotentRequest.objects.filter(created_at__lt=now - IDEMPOTENCY_RECORD_LIFETIME).delete()
    changes, _ = ContactChange.objects.filter(
        confirmed_at__isnull=True, created_at__lt=now - CONTACT_CHANGE_LIFETIME
    ).delete()
    return Pruned(
        idempotency_records=records,
        api_tokens=prune_expired_api_tokens(),
        contact_changes=changes,
        search_words_mended=mend_search_words(),
    )


@shared_task(name="followthrough.housekeeping.prune", ignore_result=True)
def prune_task() -> None:
    """Beat runs this hourly; running it twice, or on two workers at once, is harmless."""
    prune()
