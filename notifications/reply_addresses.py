"""The address a customer's reply comes back to: ``replies+<token>@<EMAIL_REPLY_TO's domain>``.

The token names one commitment: its id and an HMAC of that id under the secret key, with a
purpose of its own, so it cannot be guessed, cannot be forged for another commitment, and opens
nothing else (not the status page, not the unsubscribe link). Lower-case letters and digits only:
mail systems may change the case of a local part, and some drop what they do not expect.
"""

import base64
import hashlib
import hmac
import re
from email.utils import parseaddr

from django.conf import settings

MAC_LENGTH = 26  # 130 bits of base32: far beyond guessing, short enough for any mail system.
TOKEN = re.compile(r"^(?P<pk>[0-9]+)\.(?P<mac>[a-z2-7]+)$")


def _mac(pk: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reply-address:{pk}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_LENGTH]


def reply_token(commitment_pk: int) -> str:
    return f"{commitment_pk}.{_mac(commitment_pk)}"


def reply_address(commitment_pk: int) -> str:
    """The commitment's reply address, or "" when EMAIL_REPLY_TO is not set."""
    configured = settings.EMAIL_REPLY_TO
    if not configured or "@" not in configured:
        return ""
    local, _, domain = configured.rpartition("@")
    base = local.split("+", 1)[0]
    return f"{base}+{reply_token(commitment_pk)}@{domain}"


def commitment_id_for(address: str) -> int | None:
    """The commitment a reply address belongs to, or None for any other, forged or mangled address."""
    _, addr = parseaddr(address or "")
    local, _, domain = addr.rpartition("@")
    configured = settings.EMAIL_REPLY_TO
    if not local or not configured or domain.lower() != configured.rpartition("@")[2].lower() or "+" not in local:
        return None
    match = TOKEN.match(local.split("+", 1)[1].lower())
    if match is None or len(match["pk"]) > 18:
        return None
    pk = int(match["pk"])
    return pk if hmac.compare_digest(match["mac"], _mac(pk)) else None
