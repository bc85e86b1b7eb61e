"""The ``Idempotency-Key`` header: a POST retried with the same key acts once and answers the same.

An integrator whose connection dropped cannot know whether its create went through; retrying with
the same key is then safe. The key is stored with the user, a fingerprint of the request and the
answer, in the same transaction as the change itself, so the change and its record commit together.
A concurrent retry blocks on the key's unique index until the first request finishes, then replays
its answer. A refused request (400, 403, 404, 409) is not kept: it changed nothing, and the client
may fix it and try again with the same key.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from commitments.models import IdempotentRequest
from followthrough.api.errors import IdempotencyKeyReused

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is best), at most 255 printable ASCII characters. A retry with the "
        "same key and the same body answers what the first request answered and changes nothing; the same "
        "key with a different request answers 422."
    ),
    pattern=r"^[\x20-\x7E]{1,255}$",
)


def replay_or_run(request: Request, run: Callable[[], Response]) -> Response:
    """Run the POST once per (user, key); a retry gets the first successful answer back."""
    key = _key_of(request)
    if key is None:
        return run()
    fingerprint = _fingerprint(request)
    user = request.user
    assert isinstance(user, User)  # Only signed-in staff get this far.
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method or "POST",
                    path=request.path[:400],
                )
        except IntegrityError:
            # The key is known: waiting on its unique index meant the first request has finished.
            return _replay(IdempotentRequest.objects.get(user=user, key=key), fingerprint)
        response = run()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)  # Forget the key: nothing was done under it.
            return response
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
        return response


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})


def _key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]}
        )
    return key


def _fingerprint(request: Request) -> str:
    """The same request, however its JSON keys were ordered, gives the same fingerprint."""
    body = json.dumps(_plain(request.data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _plain(data: Any) -> Any:
    if hasattr(data, "lists"):  # A QueryDict from a form body.
        return {key: values for key, values in data.lists()}
    return data
