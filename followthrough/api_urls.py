"""The REST API under /api/v1/ (see contract.md)."""

from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


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


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("commitments.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("notifications.api.urls")),
    re_path(r"^.*$", no_such_call),
]
