"""How the API answers when a service refuses, and the shapes of its error bodies for the schema.

Services raise ``InvalidInput`` (400, field by field, nested as the body is), ``IllegalMove``
(409: the commitment's status does not allow it) and ``NotAllowed`` (403). Every error answer
is DRF's usual shape, so an integrator handles one format.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from commitments.errors import IllegalMove, InvalidInput, NotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The commitment's current status does not allow this."
    default_code = "illegal_move"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError(exc.errors)
    elif isinstance(exc, IllegalMove):
        exc = Conflict(str(exc))
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    return exception_handler(exc, context)


# --- Error bodies, as documented in the OpenAPI schema ---------------------------------------

ErrorSerializer = inline_serializer(
    name="Error",
    fields={"detail": serializers.CharField(help_text="What went wrong, in plain words.")},
)

# 400: every offending field named, nested as the request body is, e.g.
# {"customer": {"phone": ["Enter a valid phone number, e.g. +15555550100."]}}. A body that is not
# JSON at all answers {"detail": "JSON parse error ..."}.
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Each offending field with its messages, nested as the request body is.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": True},
            {"type": "string"},
        ]
    },
    "example": {"customer": {"phone": ["Enter a valid phone number, e.g. +15555550100."]}},
}

BAD_REQUEST = OpenApiResponse(FIELD_ERRORS_SCHEMA, description="Bad input: every offending field is named.")
UNAUTHORIZED = OpenApiResponse(ErrorSerializer, description="No token or session, or an invalid token.")
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="Only the owner, the assignee or a team lead may change this commitment."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such commitment among your teams' commitments.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="The commitment's current status does not allow this move.")
KEY_REUSED = OpenApiResponse(
    ErrorSerializer, description="The Idempotency-Key was already used with a different request."
)
NOT_JSON = OpenApiResponse(ErrorSerializer, description="The body must be JSON (Content-Type: application/json).")
THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many requests: wait as the Retry-After header says.")
