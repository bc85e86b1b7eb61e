from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from commitments import selectors


@login_required
def my_commitments(request: HttpRequest) -> HttpResponse:
    commitments = selectors.my_commitments(user=request.user)  # type: ignore[arg-type]
    return render(request, "commitments/mine.html", {"commitments": commitments})


@login_required
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = get_object_or_404(selectors.visible_commitments(user=request.user), pk=pk)  # type: ignore[arg-type]
    return render(request, "commitments/detail.html", {"commitment": commitment})
