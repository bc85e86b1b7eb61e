"""What a locked-out login gets (django-axes calls this): 429 everywhere, worded for where it came from.

After ``AXES_FAILURE_LIMIT`` failed tries for one username from one address, that pair is refused
for ``AXES_COOLOFF_TIME``, even with the right password: the API answers 429 in its JSON shape,
the login pages show the sign-in form again with a plain message.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_OUT = (
    "Too many failed sign-in attempts for this username from your address. "
    "For your security, signing in is paused for {minutes} minutes. Please try again later."
)


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    message = LOCKED_OUT.format(minutes=lockout_minutes())
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = retry_after
    return response
