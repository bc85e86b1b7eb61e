from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from commitments.status_links import commitment_for_token


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    commitment = commitment_for_token(token)
    if commitment is None:
        raise Http404
    return render(request, "commitments/customer/status.html", {"commitment": commitment})
