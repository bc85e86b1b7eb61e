"""The customer's status page and its actions: no login, the link's token is the only key.

GET never changes anything, because mail scanners open every link in a message: each action is a
POST from a page that asks first. A wrong, tampered or revoked token gets the same plain 404 on
every route, and every route is rate-limited by client address and by link.
"""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from commitments import services
from commitments.customer import selectors as customer_selectors
from commitments.customer import services as customer_services
from commitments.customer.forms import AnswerForm, PreferencesForm, StillAProblemForm
from commitments.customer.rate_limits import RateKey, customer_rate, over_limit, too_many_requests
from commitments.errors import IllegalMove, InvalidInput
from commitments.languages import catalog_for
from commitments.models import Commitment, Status
from commitments.status_links import commitment_for_token, commitment_for_unsubscribe_token, hash_token

logger = logging.getLogger(__name__)

LinkView = Callable[[HttpRequest, Commitment, str], HttpResponseBase]


# --- The gate every customer route passes -------------------------------------------------


def not_found(request: HttpRequest) -> HttpResponseBase:
    """The same answer for a link that never existed and one that was revoked."""
    with translation.override(catalog_for(settings.FOLLOWTHROUGH_LANGUAGE)):
        return _private(render(request, "commitments/customer/not_found.html", status=404))


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The page is for the link's holder alone: no shared caches, no search engines. The token never
    # leaves in a Referer either: SECURE_REFERRER_POLICY is same-origin (no-referrer would make the
    # browser send "Origin: null" with the page's own forms, which the CSRF check rightly refuses).
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def link_view(
    view: LinkView, *, find: Callable[[str], Commitment | None] = commitment_for_token
) -> Callable[[HttpRequest, str], HttpResponseBase]:
    """Rate limits, then the link's commitment (else 404), then the page; a stale link is read-only."""

    @wraps(view)
    def gate(request: HttpRequest, token: str) -> HttpResponseBase:
        link_key = hash_token(token)
        checks: list[tuple[str, RateKey]] = [
            ("customer-link:ip", "ip"),
            ("customer-link:token", lambda group, request: link_key),
        ]
        if over_limit(request, checks=checks, rate=customer_rate):
            return too_many_requests()
        commitment = find(token)
        if commitment is None:
            return not_found(request)
        # The page, its forms and what it says back are in the customer's language.
        with translation.override(catalog_for(commitment.customer.language_code)):
            if request.method == "POST" and customer_selectors.link_is_read_only(commitment):
                return _private(
                    render(request, "commitments/customer/read_only.html", _context(commitment, token), status=403)
                )
            return _private(view(request, commitment, token))

    return gate


def unsubscribe_link_view(view: LinkView) -> Callable[[HttpRequest, str], HttpResponseBase]:
    """The unsubscribe link's own gate: its token opens this page and nothing else."""
    return link_view(view, find=commitment_for_unsubscribe_token)


def _back_to_status(token: str) -> HttpResponse:
    return redirect("customer:status", token=token)


def _context(commitment: Commitment, token: str, **extra: object) -> dict[str, object]:
    return {
        "commitment": commitment,
        "token": token,
        "team_name": commitment.team.name,
        "read_only": customer_selectors.link_is_read_only(commitment),
        **extra,
    }


# --- Pages ----------------------------------------------------------------------------------


@link_view
@require_safe
def status_page(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponse:
    page = customer_selectors.status_page(commitment=commitment)
    return render(
        request,
        "commitments/customer/status.html",
        _context(commitment, token, page=page, answer_form=AnswerForm(), problem_form=StillAProblemForm()),
    )


@link_view
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_resolved(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponse:
    """'Yes, it's resolved': GET asks, POST answers."""
    if request.method != "POST":
        if commitment.status != Status.FULFILLED:
            return _back_to_status(token)
        return render(request, "commitments/customer/confirm.html", _context(commitment, token))
    try:
        services.confirm(commitment=commitment)
    except IllegalMove:
        messages.info(request, _("There is nothing to confirm right now: this page shows where things stand."))
        return _back_to_status(token)
    messages.success(request, _("Thank you for confirming. We've closed your request."))
    return _back_to_status(token)


@link_view
@require_http_methods(["GET", "HEAD", "POST"])
def not_resolved(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponse:
    """'No, still a problem': GET asks what is wrong, POST reopens and alerts the owner and team lead."""
    if request.method != "POST":
        if commitment.status != Status.FULFILLED:
            return _back_to_status(token)
        return render(
            request, "commitments/customer/not_resolved.html", _context(commitment, token, form=StillAProblemForm())
        )
    form = StillAProblemForm(request.POST)
    if not form.is_valid():
        return render(request, "commitments/customer/not_resolved.html", _context(commitment, token, form=form))
    try:
        reopened = services.reopen(
            actor=None, commitment=commitment, reason=form.cleaned_data["what_is_wrong"], by_customer=True
        )
    except IllegalMove:
        messages.info(request, _("Your request is already open: this page shows where things stand."))
        return _back_to_status(token)
    next_update = customer_selectors.friendly_time(
        reopened.next_update_at or reopened.due_at, reopened.customer.zone, reopened.updated_at
    )
    messages.success(
        request,
        _(
            "Thank you for telling us. %(owner)s and their team lead have been told, and you'll hear from us by %(time)s."  # noqa: E501
        )
        % {"owner": customer_selectors.first_name(reopened), "time": next_update},
    )
    return _back_to_status(token)


@link_view
@require_http_methods(["GET", "HEAD", "POST"])
def answer_request(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponse:
    """Waiting on the customer: they answer exactly what we asked for, and the clock runs again."""
    if request.method != "POST":
        if commitment.status != Status.WAITING:
            return _back_to_status(token)
        return render(request, "commitments/customer/answer.html", _context(commitment, token, form=AnswerForm()))
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            customer_services.answer_request(commitment=commitment, answer=form.cleaned_data["answer"])
        except IllegalMove:
            messages.info(request, _("We aren't waiting on anything from you right now."))
            return _back_to_status(token)
        except InvalidInput as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Thank you: we have your answer and we're back on it."))
            return _back_to_status(token)
    return render(request, "commitments/customer/answer.html", _context(commitment, token, form=form))


@link_view
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponse:
    """How we reach the customer: channel, contact details, texts and automatic emails."""
    customer = commitment.customer
    if request.method != "POST":
        form = PreferencesForm.for_customer(customer)
        return render(request, "commitments/customer/preferences.html", _context(commitment, token, form=form))
    form = PreferencesForm.for_customer(customer, data=request.POST)
    if form.is_valid():
        try:
            saved = customer_services.change_preferences(commitment=commitment, preferences=form.preferences())
        except InvalidInput as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Saved. We'll reach you the way you chose."))
            for field in saved.awaiting_confirmation:
                if field == "email":
                    notice = _(
                        "We sent a link to your new email address: open it to confirm. "
                        "Until then we keep using the email address we had."
                    )
                else:
                    notice = _(
                        "We sent a link to your new phone number: open it to confirm. "
                        "Until then we keep using the phone number we had."
                    )
                messages.info(request, notice)
            return _back_to_status(token)
    return render(request, "commitments/customer/preferences.html", _context(commitment, token, form=form))


@csrf_exempt  # Only for RFC 8058's one-click POST; the page's own button is checked below.
@unsubscribe_link_view
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, commitment: Commitment, token: str) -> HttpResponseBase:
    """Email one-click unsubscribe from automatic updates (RFC 8058); GET only asks."""
    if request.method != "POST":
        return render(request, "commitments/customer/unsubscribe.html", _context(commitment, token, done=False))
    if request.POST.get("List-Unsubscribe") != "One-Click":
        rejected = CsrfViewMiddleware(lambda request: HttpResponse()).process_view(request, _checked_by_hand, (), {})
        if rejected is not None:
            return rejected
    customer_services.unsubscribe_email_updates(commitment=commitment)
    return render(request, "commitments/customer/unsubscribe.html", _context(commitment, token, done=True))


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_contact(request: HttpRequest, token: str) -> HttpResponseBase:
    """The link sent to a new email address or phone number: GET asks, POST confirms (mail scanners GET)."""
    checks: list[tuple[str, RateKey]] = [("customer-link:ip", "ip")]
    if over_limit(request, checks=checks, rate=customer_rate):
        return too_many_requests()
    change = customer_services.contact_change_for_token(token)
    if change is None:
        return not_found(request)
    context = {"change": change, "token": token, "team_name": change.commitment.team.name, "done": False}
    if request.method == "POST":
        try:
            customer_services.confirm_contact_change(token=token)
        except InvalidInput:
            context["refused"] = True
        else:
            context["done"] = True
    # In the language of the customer who asked for the change, like the message that brought them here.
    with translation.override(catalog_for(change.customer.language_code)):
        return _private(render(request, "commitments/customer/confirm_contact.html", context))


def _checked_by_hand(request: HttpRequest) -> HttpResponse:
    """Stands for the view in a CSRF check made inside ``unsubscribe`` (the middleware only reads its flags)."""
    raise AssertionError("never called")


def _add_errors(form: AnswerForm | PreferencesForm, error: InvalidInput) -> None:
    for field, problems in error.errors.items():
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, problem)
