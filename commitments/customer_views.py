"""The customer's status page and its actions. (Filled in with the customer's side.)"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from commitments.status_links import commitment_for_token


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    commitment = commitment_for_token(token)
    if commitment is None:
        raise Http404
    return render(request, "commitments/customer/status.html", {"commitment": commitment})


def _not_yet(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404


confirm_resolved = not_resolved = answer_request = preferences = unsubscribe = _not_yet
