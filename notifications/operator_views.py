"""What operators and their monitoring read: ``/healthz``, ``/readyz``, ``/metrics``, and the
Delivery page in the staff admin (``/admin/delivery/``).

``/healthz`` says the web process answers (liveness: restart it if not); ``/readyz`` says whether
the deployment can deliver (database, broker, beat, mail not stuck; 503 if not). Neither reveals
anything secret. ``/metrics`` is for Prometheus only: it answers a staff member's session, or a
request carrying ``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets a 401.
"""

import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import site as admin_site
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from prometheus_client import CONTENT_TYPE_LATEST

from notifications import delivery, engine_health, engine_metrics
from notifications.models import DeliveryStatus, Notification
from notifications.readiness import readiness

FAILURES_SHOWN = 50


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    answer = readiness()
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        response = HttpResponse("Metrics need a staff login or the METRICS_TOKEN bearer token.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(engine_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _may_scrape(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@staff_member_required
@require_http_methods(["GET", "POST"])
def delivery_page(request: HttpRequest) -> HttpResponse:
    """The backlog by channel, failures with their reasons, retry now, and whether beat is ticking."""
    if request.method == "POST":
        if not request.user.has_perm("notifications.change_notification"):
            messages.error(request, "You may look at deliveries but not retry them.")
        else:
            chosen = [int(value) for value in request.POST.getlist("notification") if value.isdigit()]
            retried = delivery.retry_now(notification_ids=chosen)
            if retried:
                messages.success(request, f"{retried} message(s) will be sent again now.")
            if len(chosen) > retried:
                messages.warning(
                    request, f"{len(chosen) - retried} message(s) could not be retried (sent, or being sent)."
                )
        return HttpResponseRedirect(reverse("operator-delivery"))
    state = engine_health.engine_state()
    failures = (
        Notification.objects.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING])
        .exclude(last_error="")
        .select_related("commitment")
        .order_by("-created_at", "-pk")[:FAILURES_SHOWN]
    )
    context = {
        **admin_site.each_context(request),
        "title": "Delivery",
        "state": state,
        "backlog": list(state.backlog.values()),
        "failures": failures,
        "outcomes": engine_health.outcome_counts(),
    }
    return render(request, "admin/notifications/delivery.html", context)
