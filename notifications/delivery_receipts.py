"""Twilio's status callbacks for the texts we send (``POST /hooks/sms/twilio/status/?key=...``).

Every text names our idempotency key in its callback URL, so each report is matched to its outbox
row. They are logged, with the commitment and message ids, for operators following a text; the
outbox's own status is left as delivery recorded it. Signed like the inbound hook (403 otherwise).
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.inbound import signed_by_twilio
from notifications.models import Notification

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not signed_by_twilio(request):
        return HttpResponse("Forbidden: this address only takes signed requests from Twilio.\n", status=403)
    notification = Notification.objects.filter(idempotency_key=request.GET.get("key", "")).first()
    logger.info(
        "Twilio reports text %s as %s",
        request.POST.get("MessageSid", ""),
        request.POST.get("MessageStatus", ""),
        extra={
            "notification_id": notification.pk if notification else None,
            "commitment_id": notification.commitment_id if notification else None,
            "error_code": request.POST.get("ErrorCode", ""),
        },
    )
    return HttpResponse(status=204)
