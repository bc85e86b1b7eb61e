"""Inbound text messages: Twilio's webhook for replies, STOP, START and HELP.

Only Twilio may call it: each request carries X-Twilio-Signature, an HMAC under our auth token of
the URL Twilio was given (``SITE_URL`` + path) and the form fields; anything else gets a 403.
Twilio expects 200 with TwiML: a HELP is answered inside it; STOP and START get an empty answer
because Twilio itself confirms them to the sender.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from commitments.customer import services as customer_services
from commitments.customer.rate_limits import RateKey, over_limit, throttle_rate, too_many_requests


def inbound_rate(group: str, request: HttpRequest) -> str:
    """THROTTLE_INBOUND (``120/min`` by default) per client address; THROTTLE_CUSTOMER per sender."""
    return throttle_rate("inbound" if group.endswith(":ip") else "customer")


def signed_by_twilio(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = f"{settings.SITE_URL}{request.get_full_path()}"
    return bool(RequestValidator(token).validate(url, request.POST, signature))


def twiml(reply: str = "") -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    # The signature first: unsigned posts naming a customer's number must not use up the bucket
    # their real STOP needs.
    if not signed_by_twilio(request):
        return HttpResponse("Forbidden: this address only takes signed requests from Twilio.\n", status=403)
    checks: list[tuple[str, RateKey]] = [("inbound-sms:ip", "ip"), ("inbound-sms:from", "post:From")]
    if over_limit(request, checks=checks, rate=inbound_rate):
        return too_many_requests()
    received = customer_services.receive_text(
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        message_sid=request.POST.get("MessageSid", ""),
    )
    return twiml(received.reply)
