"""The REST API under /api/v1/ (see contract.md)."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


@csrf_exempt  # A POST to a wrong address is a 404 in JSON, not Django's CSRF page.
def no_such_call(request: HttpRequest) -> JsonResponse:
    """An address the API does not have answers in the API's own error shape, not an HTML page."""
    detail = "Not found."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not no_such_call:
            detail = f"Not found. Did you mean {request.path}/ (every address ends with a slash)?"
    return JsonResponse({"detail": detail}, status=404)


API_DESCRIPTION = """
Log the promises made to customers and follow them through: every commitment has an owner, a due
time and the customer's preferred way to be reached; the app sends the acknowledgement, the status
updates and the escalations.

**Authentication.** `POST /api/v1/auth/token/` with `{"username", "password"}` answers `{"token"}`;
send it on every call as `Authorization: Token <token>` (the *Authorize* button above does this
here). A signed-in browser session works too. No credentials: `401`.

**Scope.** You see your teams' commitments (a superuser sees all); another team's is `404`. A lead
may act on every commitment of the team; an agent on the ones they own or are assigned (`403`).

**Errors.** `400` names every offending field, nested as the body is:
`{"customer": {"phone": ["Enter a valid phone number, e.g. +15555550100."]}}`; a move the
commitment's status does not allow is `409`; other errors are `{"detail": "..."}`. A refused
request changes nothing.

**Retries.** Send an `Idempotency-Key` header (a UUID) with a POST: retried with the same key and
body, it answers what the first one answered and acts only once; the same key with another
request is `422`.

**Lists** answer `{"count", "next", "previous", "results"}` in a stable order, 50 a page
(`page_size` up to 200). An unknown query parameter is a `400`, so a misspelt filter never
silently answers everything.

**Times** are ISO 8601 and must carry their UTC offset (`2026-11-25T10:00:00+01:00`); answers are in
UTC. **Durations** are written `90s`, `15m`, `4h`, `2d`.

**Rate limits** apply per user and per token; over them, `429` with a `Retry-After` header.
"""

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(custom_settings={"DESCRIPTION": API_DESCRIPTION}), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    # Swagger UI does set inline styles as it draws, so this one page allows those (never scripts).
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("", include("commitments.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("dashboard.api_urls")),
    re_path(r"^[\s\S]*$", no_such_call),  # [\s\S], not ".": a path may hold a newline too
]
