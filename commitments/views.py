"""The staff pages. Thin: read through selectors, write through services, show what they say.

Every page is scoped to the user's teams (``selectors.visible_commitments``): another team's
commitment or customer is a 404. Forms post the ordinary way and work without JavaScript; with
htmx the moves on a commitment answer with the refreshed panel instead of a new page.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from commitments import composer, selectors, services
from commitments.customer import services as customer_services
from commitments.errors import IllegalMove, InvalidInput, NotAllowed
from commitments.forms import (
    LOG_PROMISE_FIELDS,
    CancelForm,
    ChaseForm,
    CustomerForm,
    EditForm,
    FulfilForm,
    HandOffForm,
    LogCallForm,
    LogPromiseForm,
    ReopenForm,
    RescheduleForm,
    ResumeForm,
    SendUpdateForm,
    WaitForm,
    add_service_errors,
    timezone_names,
)
from commitments.languages import catalog_for
from commitments.list_rows import list_rows
from commitments.models import ACTIVE_STATUSES, Channel, Commitment, Customer
from notifications.call_tasks import log_call as log_the_call
from notifications.models import MessageKind, Notification

PAGE_SIZE = 50
LIST_LIMIT = 100
# A search that finds more than this asks for more words rather than counting on.
SEARCH_LIMIT = 500


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in staff only; times read in the agent's own (team's) zone."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with selectors.teams_remembered(user=_user(request)):
            timezone.activate(selectors.agent_zone(user=_user(request)))
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

    return wrapper


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _visible(request: HttpRequest, pk: int) -> Commitment:
    # The page says who logged it: read with the commitment, not after.
    return get_object_or_404(selectors.visible_commitments(user=_user(request)).select_related("created_by"), pk=pk)


# --- Lists -----------------------------------------------------------------------------------------


@staff_page
@require_GET
def my_commitments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    listed = selectors.my_list_page(user=user, page=request.GET.get("page"), per_page=PAGE_SIZE)
    page: Page[Commitment] = Paginator(listed.rows, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    fulfilled: list[selectors.ListedCommitment] = []
    if page.number == 1:  # Past the end, a page asked for can turn out to be the first.
        fulfilled = listed.fulfilled if listed.fulfilled is not None else selectors.my_recently_fulfilled(user=user)
    return render(
        request,
        "commitments/mine.html",
        {
            "page": page,
            "rows": list_rows(page, user=user),
            "counts": listed.counts,
            "fulfilled": list_rows(fulfilled, user=user),
            "nav": "mine",
        },
    )


@staff_page
@require_GET
def team_commitments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    teams = selectors.my_teams(user=user)
    wanted = request.GET.get("team", "")
    team = next((team for team in teams if str(team.pk) == wanted), None)
    now = timezone.now()
    listed = selectors.team_commitments(user=user, team=team, now=now)
    page_asked = request.GET.get("page")
    counts, rows = selectors.urgent_page_in_parts(listed, now=now, page=page_asked, per_page=PAGE_SIZE)
    page: Page[Commitment] = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    return render(
        request,
        "commitments/team.html",
        {
            "page": page,
            "rows": list_rows(page, user=user, show_people=True),
            "teams": teams,
            "team": team,
            # Whose message templates and glossary the page links to: the team shown, or the first.
            "writing_team": team or next(iter(teams), None),
            "counts": counts,
            "nav": "team",
        },
    )


@staff_page
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.NarrowFirst(selectors.search_commitments(user=_user(request), query=query), limit=SEARCH_LIMIT)
    page: Page[Commitment] = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    customers = list({commitment.customer_id: commitment.customer for commitment in page}.values())
    return render(
        request,
        "commitments/search.html",
        {
            "query": query,
            "page": page,
            "rows": list_rows(page, user=_user(request), show_people=True),
            "customers": customers[:6],
            "capped": page.paginator.count >= SEARCH_LIMIT,
            "nav": "search",
        },
    )


# --- Log a promise ---------------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def log_promise(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    teams = selectors.my_teams(user=user)
    now = timezone.now()
    if request.method == "GET":
        form = LogPromiseForm(initial=_returning_initial(request), user=user, teams=teams, now=now)
        return _log_promise_page(request, form, returning=_returning_from_query(request))
    form = LogPromiseForm(request.POST, user=user, teams=teams, now=now)
    form.is_valid()
    if "lookup" in request.POST:  # Without JavaScript: the "Find" button fills in a returning customer.
        returning = selectors.returning_customer(
            user=user, email=request.POST.get("customer_email", ""), phone=request.POST.get("customer_phone", "")
        )
        if returning:
            data = request.POST.copy()
            data.update(_customer_fields(returning))
            form = LogPromiseForm(data, user=user, teams=teams, now=now)
        return _log_promise_page(request, form, returning=returning, looked_up=True)
    arguments = form.service_arguments()
    if form.errors:
        return _log_promise_page(request, form, status=400)
    try:
        commitment = services.create_commitment(actor=user, **arguments)
    except InvalidInput as error:
        add_service_errors(form, error.errors, fields=LOG_PROMISE_FIELDS)
        return _log_promise_page(request, form, status=400)
    customer = commitment.customer
    messages.success(
        request,
        f"Promise logged. {customer.name} is being sent an acknowledgement by "
        f"{Channel(customer.preferred_channel).label.lower()} now.",
    )
    return redirect(commitment)


def _log_promise_page(
    request: HttpRequest,
    form: LogPromiseForm,
    *,
    returning: Customer | None = None,
    looked_up: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "returning": returning,
        "looked_up": looked_up,
        "timezones": timezone_names(),
        "nav": "new",
    }
    return render(request, "commitments/new.html", context, status=status)


def _customer_fields(customer: Customer) -> dict[str, str]:
    return {
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer_phone": customer.phone,
        "preferred_channel": customer.preferred_channel,
        "customer_timezone": customer.timezone,
    }


def _returning_from_query(request: HttpRequest) -> Customer | None:
    """``/commitments/new/?customer=<id>``: log another promise to someone already known."""
    pk = request.GET.get("customer", "")
    return selectors.visible_customer(user=_user(request), pk=int(pk)) if pk.isdigit() else None


def _returning_initial(request: HttpRequest) -> dict[str, str]:
    customer = _returning_from_query(request)
    return _customer_fields(customer) if customer else {}


@staff_page
@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    """htmx, while the agent types an email or phone: a returning customer fills in the rest."""
    customer = selectors.returning_customer(
        user=_user(request),
        email=request.GET.get("customer_email", ""),
        phone=request.GET.get("customer_phone", ""),
    )
    open_count = 0
    if customer is not None:
        open_count = (
            selectors.customer_commitments(user=_user(request), customer=customer)
            .filter(status__in=ACTIVE_STATUSES)
            .count()
        )
    response = render(
        request,
        "commitments/_customer_match.html",
        {
            "customer": customer,
            "customer_data": _customer_fields(customer) if customer else None,
            "open_count": open_count,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- One commitment ---------------------------------------------------------------------------------


@staff_page
@require_GET
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _visible(request, pk)
    return render(request, "commitments/detail.html", _panel_context(request, commitment))


@dataclass(frozen=True)
class Move:
    """One move on a commitment: the form that reads it and the service that makes it."""

    name: str
    form: Callable[..., forms.Form]
    run: Callable[[User, Commitment, Any], Commitment]
    done: Callable[[Commitment], str]


def _send_update(user: User, commitment: Commitment, form: Any) -> Commitment:
    parts = form.parts()
    if (form.data.get("next_contact_at") or "").strip() and parts["next_contact_at"] is None:
        form.add_error("next_contact_at", "Enter a date and time, e.g. 2025-11-25 10:00.")
        raise InvalidInput({})
    message = composer.compose_update(
        done=parts["done"], next_step=parts["next_step"], not_known=parts["not_known"], message=parts["message"]
    )
    return services.send_update(
        actor=user, commitment=commitment, message=message, next_contact_at=parts["next_contact_at"]
    )


def _reschedule(user: User, commitment: Commitment, form: Any) -> Commitment:
    due_at = form.clean_due()
    if form.errors:
        raise InvalidInput({})
    return services.reschedule(actor=user, commitment=commitment, due_at=due_at, reason=form.cleaned_data["reason"])


def _hand_off(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.hand_off(actor=user, commitment=commitment, assignee=form.chosen(), note=form.cleaned_data["note"])


def _wait(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.wait_on_customer(actor=user, commitment=commitment, request=form.cleaned_data["request"])


def _resume(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.resume(actor=user, commitment=commitment, note=form.cleaned_data["note"])


def _fulfil(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.fulfil(actor=user, commitment=commitment, resolution=form.cleaned_data["resolution"])


def _chased(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.record_chase(
        actor=user, commitment=commitment, channel=form.cleaned_data["channel"], note=form.cleaned_data["note"]
    )


def _cancel(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.cancel(actor=user, commitment=commitment, reason=form.cleaned_data["reason"])


def _reopen(user: User, commitment: Commitment, form: Any) -> Commitment:
    return services.reopen(actor=user, commitment=commitment, reason=form.cleaned_data["reason"])


def _edit(user: User, commitment: Commitment, form: Any) -> Commitment:
    arguments = form.service_arguments()
    if form.errors:
        raise InvalidInput({})
    return services.edit_commitment(actor=user, commitment=commitment, **arguments)


def _told(commitment: Commitment) -> str:
    return Channel(commitment.customer.preferred_channel).label.lower()


MOVE_FORMS: dict[str, Move] = {
    move.name: move
    for move in [
        Move(
            "send_update",
            lambda c, **kw: SendUpdateForm(commitment=c, **kw),
            _send_update,
            lambda c: f"Update sent to {c.customer.name} by {_told(c)}.",
        ),
        Move(
            "reschedule",
            lambda c, **kw: RescheduleForm(commitment=c, now=timezone.now(), **kw),
            _reschedule,
            lambda c: f"Rescheduled. {c.customer.name} is being told the new time and why.",
        ),
        Move(
            "hand_off",
            lambda c, **kw: HandOffForm(commitment=c, members=list(selectors.team_members(team=c.team)), **kw),
            _hand_off,
            lambda c: f"Handed off to {c.assignee.display_name}. {c.owner.display_name} stays the owner.",
        ),
        Move(
            "wait_on_customer",
            lambda c, **kw: WaitForm(**kw),
            _wait,
            lambda c: f"Waiting on {c.customer.name}: the due clock is paused and they have been asked.",
        ),
        Move(
            "resume",
            lambda c, **kw: ResumeForm(**kw),
            _resume,
            lambda c: "The clock runs again; the new due time has been sent to the customer.",
        ),
        Move(
            "fulfil",
            lambda c, **kw: FulfilForm(**kw),
            _fulfil,
            lambda c: f"Fulfilled. {c.customer.name} is told now and asked later whether it is resolved.",
        ),
        Move(
            "record_chase",
            lambda c, **kw: ChaseForm(**kw),
            _chased,
            lambda c: "Recorded: the customer had to chase us.",
        ),
        Move("cancel", lambda c, **kw: CancelForm(**kw), _cancel, lambda c: "Cancelled. Unsent messages are stopped."),
        Move(
            "reopen",
            lambda c, **kw: ReopenForm(**kw),
            _reopen,
            lambda c: "Reopened: the clock runs again and the owner and team lead are told.",
        ),
        Move("edit", lambda c, **kw: EditForm(commitment=c, **kw), _edit, lambda c: "Changes saved."),
    ]
}

# URL slugs, in the product's words.
MOVE_SLUGS = {
    "update": "send_update",
    "reschedule": "reschedule",
    "hand-off": "hand_off",
    "wait": "wait_on_customer",
    "resume": "resume",
    "fulfil": "fulfil",
    "chased": "record_chase",
    "cancel": "cancel",
    "reopen": "reopen",
    "edit": "edit",
}
SLUG_OF = {name: slug for slug, name in MOVE_SLUGS.items()}


@staff_page
@require_POST
def commitment_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    commitment = _visible(request, pk)
    if move not in MOVE_SLUGS:
        raise Http404
    spec = MOVE_FORMS[MOVE_SLUGS[move]]
    form = spec.form(commitment, data=request.POST, auto_id=f"id_{spec.name}_%s")
    form.is_valid()
    try:
        if form.errors:
            raise InvalidInput({})
        updated = spec.run(_user(request), commitment, form)
    except InvalidInput as error:
        add_service_errors(form, error.errors)
        return _panel_response(request, commitment, status=400, bound={spec.name: form}, open_move=spec.name)
    except IllegalMove as refusal:
        return _panel_response(request, commitment, status=409, alert=str(refusal))
    except NotAllowed as refusal:
        return _panel_response(request, commitment, status=403, alert=str(refusal))
    return _done(request, updated, spec.done(updated))


@staff_page
@require_POST
def log_call(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    """The owner made the call a phone-preferring customer gets instead of a message."""
    commitment = _visible(request, pk)
    task = get_object_or_404(Notification, pk=task_pk, commitment=commitment, kind=MessageKind.CALL_TASK)
    form = LogCallForm(request.POST)
    form.is_valid()
    try:
        log_the_call(actor=_user(request), task=task, note=form.cleaned_data.get("note", ""))
    except InvalidInput as error:
        add_service_errors(form, error.errors)
        return _panel_response(request, commitment, status=400, call_forms={task.pk: form})
    except IllegalMove as refusal:
        return _panel_response(request, commitment, status=409, alert=str(refusal))
    except NotAllowed as refusal:
        return _panel_response(request, commitment, status=403, alert=str(refusal))
    return _done(request, commitment, "Call logged.")


@staff_page
@require_http_methods(["GET", "POST"])
def replace_status_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke the customer's link and issue a new one (say it reached the wrong person): GET asks first."""
    commitment = _visible(request, pk)
    if request.method == "GET":
        return render(request, "commitments/replace_link.html", {"commitment": commitment, "nav": ""})
    try:
        customer_services.revoke_status_link(actor=_user(request), commitment=commitment)
    except NotAllowed as refusal:
        messages.error(request, str(refusal))
        return render(request, "commitments/replace_link.html", {"commitment": commitment, "nav": ""}, status=403)
    messages.success(
        request,
        "The customer's link was replaced: the old one no longer opens anything. "
        "Our next message to the customer carries the new link.",
    )
    return redirect(commitment)


def _done(request: HttpRequest, commitment: Commitment, notice: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        fresh = _visible(request, commitment.pk)
        return _panel_response(request, fresh, notice=notice)
    messages.success(request, notice)
    return redirect(commitment)


def _panel_response(
    request: HttpRequest,
    commitment: Commitment,
    *,
    status: int = 200,
    notice: str = "",
    alert: str = "",
    bound: dict[str, forms.Form] | None = None,
    open_move: str = "",
    call_forms: dict[int, forms.Form] | None = None,
) -> HttpResponse:
    """The refreshed panel for htmx, else the whole page (a refusal keeps its HTTP status either way)."""
    if status != 200:
        commitment = _visible(request, commitment.pk)  # As it is now: a refused move changed nothing.
    context = _panel_context(
        request,
        commitment,
        notice=notice,
        alert=alert,
        bound=bound,
        open_move=open_move,
        call_forms=call_forms,
    )
    template = "commitments/_panel.html" if request.htmx else "commitments/detail.html"  # type: ignore[attr-defined]
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _panel_context(
    request: HttpRequest,
    commitment: Commitment,
    *,
    notice: str = "",
    alert: str = "",
    bound: dict[str, forms.Form] | None = None,
    open_move: str = "",
    call_forms: dict[int, forms.Form] | None = None,
) -> dict[str, Any]:
    user = _user(request)
    available = services.available_actions(actor=user, commitment=commitment)
    # Each move's fields get their own ids: several forms on one page share field names.
    move_forms = {
        name: MOVE_FORMS[name].form(commitment, auto_id=f"id_{name}_%s") for name in available if name in MOVE_FORMS
    }
    move_forms.update(bound or {})
    call_tasks = list(selectors.open_call_tasks(commitment=commitment))
    now = timezone.now()
    return {
        "commitment": commitment,
        "customer": commitment.customer,
        "available": available,
        "forms": move_forms,
        "slugs": SLUG_OF,
        "open_move": open_move,
        "notice": notice,
        "alert": alert,
        **_history(request, commitment),
        "call_tasks": [(task, (call_forms or {}).get(task.pk) or LogCallForm()) for task in call_tasks],
        "resumes_at": services.due_after_resuming(commitment, now=now) if commitment.status == "waiting" else None,
        "can_change": bool(available - {"record_chase"}),
        "agent_zone": timezone.get_current_timezone_name(),
        "nav": "",
    }


# A long-running promise gathers a message and a timeline line a day: the page shows the newest
# (what an agent reads before calling the customer back) and links to the whole history.
NEWEST_EVENTS_SHOWN = 30
NEWEST_MESSAGES_SHOWN = 20
# Even the whole history lists at most this many messages, the newest.
MESSAGES_LISTED = 100


def _wants_whole_history(request: HttpRequest) -> bool:
    """``?history=all`` on the page, or on the page an htmx panel is swapped into after a move."""
    if request.GET.get("history") == "all":
        return True
    current: str | None = request.htmx.current_url if request.htmx else None  # type: ignore[attr-defined]
    return current is not None and parse_qs(urlsplit(current).query).get("history") == ["all"]


def _history(request: HttpRequest, commitment: Commitment) -> dict[str, Any]:
    """The timeline and the messages: the newest of each, or the whole history."""
    if _wants_whole_history(request):
        events, earlier_events = list(selectors.timeline(commitment=commitment)), False
        shown = MESSAGES_LISTED
    else:
        events, earlier_events = selectors.newest_of_timeline(commitment=commitment, count=NEWEST_EVENTS_SHOWN)
        shown = NEWEST_MESSAGES_SHOWN
    notifications = list(selectors.messages_of(commitment=commitment, limit=shown + 1))
    return {
        "events": events,
        "earlier_events": earlier_events,
        "notifications": notifications[:shown],
        # Older messages left out: a link to them, or (the whole history's cap) just saying so.
        "earlier_messages": len(notifications) > shown,
        "whole_history": shown == MESSAGES_LISTED,
    }


# --- Customers ---------------------------------------------------------------------------------------


def _visible_customer(request: HttpRequest, pk: int) -> Customer:
    customer = selectors.visible_customer(user=_user(request), pk=pk)
    if customer is None:
        raise Http404
    return customer


@staff_page
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible_customer(request, pk)
    return _customer_page(request, customer, CustomerForm(initial=_customer_form_initial(customer)))


@staff_page
@require_POST
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible_customer(request, pk)
    form = CustomerForm(request.POST)
    form.is_valid()
    try:
        services.edit_customer(
            actor=_user(request), customer=customer, details=form.details(), notes=form.cleaned_data.get("notes")
        )
    except InvalidInput as error:
        add_service_errors(form, error.errors)
        return _customer_page(request, customer, form, status=400, editing=True)
    except NotAllowed as refusal:
        messages.error(request, str(refusal))
        return _customer_page(request, customer, form, status=403)
    messages.success(request, "Customer details saved.")
    return redirect(reverse("commitments:customer", args=[customer.pk]))


def _customer_form_initial(customer: Customer) -> dict[str, str]:
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "preferred_channel": customer.preferred_channel,
        "timezone": customer.timezone,
        "language": catalog_for(customer.language_code),
        "notes": customer.notes,
    }


def _customer_page(
    request: HttpRequest, customer: Customer, form: CustomerForm, *, status: int = 200, editing: bool = False
) -> HttpResponse:
    commitments = list(selectors.customer_commitments(user=_user(request), customer=customer)[:LIST_LIMIT])
    still_owed = [commitment for commitment in commitments if commitment.is_still_owed]
    latest_update = selectors.latest_news_for_customer(user=_user(request), customer=customer)
    return render(
        request,
        "commitments/customer_detail.html",
        {
            "customer": customer,
            "commitments": commitments,
            "rows": list_rows(commitments, user=_user(request), show_people=True),
            "still_owed": still_owed,
            "latest_update": latest_update,
            "form": form,
            "editing": editing,
            "timezones": timezone_names(),
            "nav": "",
        },
        status=status,
    )
