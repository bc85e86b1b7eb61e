"""An email's bytes written directly, the very bytes Django's mail and the email package make of it.

Django builds a message as a tree of ``email.mime`` objects (each part parsing back the headers
it has just set) and the email package's generator then walks the tree: about a fifth of what a
worker spent on each message, for two or three short parts. Our messages have one shape (a text
part, perhaps an HTML alternative, no attachments), so ``message_bytes`` writes that shape
directly, with Django's own header rules (``forbid_multi_line_headers``), the generator's own
folding policy (``smtp.QUICK_FOLDING``), line endings and boundary. Anything else (attachments,
Cc, another charset, a line too long for SMTP, which Django sends quoted-printable) answers None,
and the caller writes the message the usual way. The tests compare both ways byte for byte.
"""

import re
from email.generator import BytesGenerator
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME

# The line ends the generator writes (``email.generator.NLCRE``), and those we send.
LINE_END = re.compile(r"\r\n|\r|\n")
CRLF = b"\r\n"
HANDLED_ELSEWHERE = {"from", "to", "cc", "reply-to"}


def message_bytes(message: EmailMessage, policy: Any) -> bytes | None:
    """The message as ``policy`` (a compat32 policy, lines ended with CRLF) writes it, or None if
    it is not a text message with at most an HTML alternative."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    if encoding != "utf-8" or message.attachments or message.cc or "Cc" in message.extra_headers or not message.body:
        return None
    alternatives = getattr(message, "alternatives", [])
    if len(alternatives) > 1 or (alternatives and alternatives[0].mimetype != "text/html"):
        return None
    if type(message) not in (EmailMessage, EmailMultiAlternatives):
        return None  # A subclass may build its message() differently.
    if message.content_subtype != "plain" or getattr(message, "alternative_subtype", "alternative") != "alternative":
        return None  # An HTML body set as the message's own (``content_subtype = "html"``), say.
    text = _text_part("plain", message.body)
    if text is None:
        return None
    if not alternatives:
        text_headers, body = text
        return _headers(policy, [*text_headers, *_message_headers(message, encoding)]) + CRLF + body
    html = _text_part("html", alternatives[0].content)
    if html is None:
        return None
    parts = [_headers(policy, part_headers) + CRLF + part_body for part_headers, part_body in (text, html)]
    boundary = BytesGenerator._make_boundary(CRLF.join(parts))  # type: ignore[attr-defined]
    headers = [
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("MIME-Version", "1.0"),
        *_message_headers(message, encoding),
    ]
    dash = f"--{boundary}".encode()
    return b"".join(
        [
            _headers(policy, headers),
            CRLF,
            dash + CRLF,
            parts[0],
            CRLF + dash + CRLF,
            parts[1],
            CRLF + dash + b"--" + CRLF,
        ]
    )


def _text_part(subtype: str, content: Any) -> tuple[list[tuple[str, str]], bytes] | None:
    """A ``text/<subtype>`` part's headers and body in UTF-8 (7bit or 8bit), as ``SafeMIMEText``
    makes it; None where Django would encode it quoted-printable (a line over the SMTP limit)."""
    if not isinstance(content, str):
        return None
    try:
        encoded = content.encode("utf-8")
    except UnicodeEncodeError:
        return None
    lines = LINE_END.split(content)
    if any(len(line.encode("utf-8")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in content.splitlines()):
        return None
    transfer_encoding = "7bit" if encoded.isascii() else "8bit"
    # The generator's ``_write_lines``: each line ended with CRLF, the last one only if it was.
    body = CRLF.join(line.encode("utf-8") for line in lines)
    headers = [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", transfer_encoding),
    ]
    return headers, body


def _message_headers(message: EmailMessage, encoding: str) -> list[tuple[str, str]]:
    """The message's own headers in the order ``EmailMessage.message()`` sets them."""
    extra = message.extra_headers
    headers: list[tuple[str, Any]] = [("Subject", message.subject), ("From", extra.get("From", message.from_email))]
    for name, values in (("To", message.to), ("Reply-To", message.reply_to)):
        if name in extra:
            headers.append((name, extra[name]))
        elif values:
            headers.append((name, ", ".join(str(value) for value in values)))
    names = {name.lower() for name in extra}
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [(name, value) for name, value in extra.items() if name.lower() not in HANDLED_ELSEWHERE]
    return [_checked(name, value, encoding) for name, value in headers]


def _checked(name: str, value: Any, encoding: str) -> tuple[str, str]:
    """``forbid_multi_line_headers``: what it makes of a header, the common subject taken directly.

    It passes every ASCII subject through ``Header(subject).encode()``, which gives a short one
    (on one line of at most 76, no trailing whitespace, which it drops) back unchanged.
    """
    if name == "Subject" and isinstance(value, str) and _SHORT_PLAIN_SUBJECT.fullmatch(value):
        return name, value
    return forbid_multi_line_headers(name, value, encoding)


# Printable ASCII and spaces, 1 to 76 of them, not ending with a space.
_SHORT_PLAIN_SUBJECT = re.compile(r"[ -~]{0,75}[!-~]")


def _headers(policy: Any, headers: list[tuple[str, str]]) -> bytes:
    return b"".join(policy.fold_binary(name, value) for name, value in headers)
