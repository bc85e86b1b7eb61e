"""Texts: one outbox row becomes one SMS through the backend chosen by ``SMS_BACKEND``.

- ``console`` writes the text to the log (the embedded default: nothing leaves the machine);
- ``webhook`` POSTs ``{"to", "body", "idempotency_key"}`` as JSON to ``SMS_WEBHOOK_URL``;
- ``twilio`` sends through Twilio's official SDK (``TWILIO_API_BASE_URL`` points it elsewhere,
  e.g. at a local server that speaks Twilio's protocol in the tests). Twilio takes no key of ours
  on a message, so the idempotency key rides in the message's status callback URL
  (``SITE_URL/hooks/sms/twilio/status/?key=...``): whoever reads the message resource or its
  callbacks can tell a repeat from a new text.

Every request gets only what is left of the send's deadline (``deadline.time_left``), capped by
``SMS_TIMEOUT``.

Each backend answers with the provider's id for the message, or raises TransientFailure /
PermanentFailure as the contract classes the provider's answer.
"""

import logging
from typing import Protocol
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from notifications.channels.deadline import DeadlinePassed, time_left
from notifications.channels.errors import DeliveryFailure, PermanentFailure, TransientFailure
from notifications.models import Notification

logger = logging.getLogger(__name__)

# 408 and 429 are 4xx but say "not now", not "never": they are retried like a 5xx.
RETRYABLE_CLIENT_ERRORS = {408, 429}


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str: ...


class ConsoleBackend:
    """Writes each text to the log instead of sending it."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        logger.info("Text to %s (%s):\n%s", to, idempotency_key, body)
        return f"console:{idempotency_key}"


class WebhookBackend:
    """POSTs each text to ``SMS_WEBHOOK_URL`` (see the contract's "SMS webhook backend")."""

    def __init__(self, url: str, *, timeout: float) -> None:
        if not url:
            raise TransientFailure("SMS_BACKEND is webhook but SMS_WEBHOOK_URL is not set")
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        try:
            response = self.session.post(
                self.url,
                json={"to": to, "body": body, "idempotency_key": idempotency_key},
                headers={"Idempotency-Key": idempotency_key},
                timeout=time_left(self.timeout),
                allow_redirects=False,
            )
        except DeadlinePassed as error:
            raise TransientFailure(f"SMS webhook not called: {error}") from error
        except requests.Timeout as error:
            raise TransientFailure(f"SMS webhook did not answer within {self.timeout}s") from error
        except requests.RequestException as error:
            raise TransientFailure(f"Could not reach the SMS webhook: {error}") from error
        status = response.status_code
        if 200 <= status < 300:
            return idempotency_key
        reason = f"SMS webhook answered {status} {response.reason}: {response.text[:300]}"
        if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
            raise PermanentFailure(reason)
        raise TransientFailure(reason)


class TwilioBackend:
    """Sends through Twilio's Messages API with the official SDK."""

    def __init__(
        self, *, account_sid: str, auth_token: str, from_number: str, timeout: float, base_url: str = ""
    ) -> None:
        if not (account_sid and auth_token and from_number):
            # Configuration, not the message: keep texts pending until an operator sets it.
            raise TransientFailure(
                "SMS_BACKEND is twilio but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or TWILIO_FROM_NUMBER is not set"
            )
        self.from_number = from_number
        self.timeout = timeout
        self.http_client = TwilioHttpClient(timeout=timeout)
        self.client = TwilioClient(account_sid, auth_token, http_client=self.http_client)
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        try:
            self.http_client.timeout = time_left(self.timeout)
            message = self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback_url(idempotency_key)
            )
        except DeadlinePassed as error:
            raise TransientFailure(f"Twilio not called: {error}") from error
        except TwilioRestException as error:
            reason = f"Twilio {error.status}" + (f" error {error.code}" if error.code else "") + f": {error.msg}"
            if error.status == 401:
                # Our credentials, not this text: keep every text pending until an operator fixes them.
                raise TransientFailure(f"{reason}; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN") from error
            if 400 <= error.status < 500 and error.status not in RETRYABLE_CLIENT_ERRORS:
                raise PermanentFailure(reason) from error
            raise TransientFailure(reason) from error
        except requests.Timeout as error:
            raise TransientFailure("Twilio did not answer in time") from error
        except (requests.RequestException, TwilioException) as error:
            raise TransientFailure(f"Could not reach Twilio: {error}") from error
        return str(message.sid)


def status_callback_url(idempotency_key: str) -> str:
    """Where Twilio reports the text's progress; it names the text by our idempotency key."""
    return f"{settings.SITE_URL}{reverse('hooks:twilio_status')}?{urlencode({'key': idempotency_key})}"


def backend_from_settings() -> SmsBackend:
    if settings.SMS_BACKEND == "webhook":
        return WebhookBackend(settings.SMS_WEBHOOK_URL, timeout=settings.SMS_TIMEOUT)
    if settings.SMS_BACKEND == "twilio":
        return TwilioBackend(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM_NUMBER,
            timeout=settings.SMS_TIMEOUT,
            base_url=settings.TWILIO_API_BASE_URL,
        )
    return ConsoleBackend()


class SmsChannel:
    """Sends a batch of texts through one backend, made on first use."""

    def __init__(self) -> None:
        self._backend: SmsBackend | None = None

    def send(self, notification: Notification) -> str:
        """Send one text and answer the provider's id, or raise TransientFailure / PermanentFailure."""
        if self._backend is None:
            self._backend = backend_from_settings()
        try:
            return self._backend.send(
                to=notification.recipient, body=notification.body, idempotency_key=notification.idempotency_key
            )
        except DeliveryFailure:
            raise
        except Exception as error:  # Not a refusal we understand: try again later rather than lose it.
            raise TransientFailure(f"{type(error).__name__}: {error}") from error
