"""Secrets never reach the logs: customer link tokens, API tokens, idempotency keys.

A customer's link is the key to their page, and Django logs the path of every 404 and 403
("Not Found: /s/<token>/"), as gunicorn's access log does for every request. This filter, on
every handler, rewrites a record's message with those parts replaced by ``[redacted]``.
"""

import logging
import re

REDACTED = "[redacted]"

SECRETS = [
    # /s/<token>/..., /s/contact/<token>/: the customer's links (status, unsubscribe, contact check).
    (re.compile(r"(/s/(?:contact/)?)[^/\s?\"']+"), rf"\g<1>{REDACTED}"),
    # Authorization: Token <token>, and the Idempotency-Key header's value.
    (re.compile(r"(Token\s+)[A-Za-z0-9_\-]{8,}"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(Idempotency-Key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+", re.IGNORECASE), rf"\g<1>{REDACTED}"),
]


def redact(text: str) -> str:
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


# With SMS_BACKEND=console the log is where texts are delivered (development): they go out whole.
DELIVERED_THROUGH_THE_LOG = frozenset({"notifications.channels.sms"})


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in DELIVERED_THROUGH_THE_LOG:
            return True
        try:
            message = record.getMessage()
        except Exception:  # A malformed record is logged as it is; the handler reports it.
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
