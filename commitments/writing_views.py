"""The writing aids on the staff pages: the composer's preview and coach, the honest-promise
proposal, and the lead's pages for the team's glossary and message templates.

Thin like the other pages: forms read what was typed, ``composer``, ``promises``, ``coach`` and
``notifications.team_templates`` decide. The live parts answer htmx fragments.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Team
from commitments import composer, glossary, promises, selectors
from commitments.errors import InvalidInput, NotAllowed
from commitments.forms import LogPromiseForm, SendUpdateForm, add_service_errors
from commitments.views import _user, _visible, staff_page
from notifications import team_templates
from notifications.models import CUSTOMER_KINDS, MessageKind


def _fragment(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- The composer ----------------------------------------------------------------------------


@staff_page
@require_POST
def compose_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx, as the agent types: the coach's advice and exactly what the customer would get."""
    commitment = _visible(request, pk)
    form = SendUpdateForm(request.POST, commitment=commitment)
    parts = form.parts()
    message = composer.compose_update(
        done=parts["done"], next_step=parts["next_step"], not_known=parts["not_known"], message=parts["message"]
    )
    preview = composer.preview_update(
        commitment, message=message, next_contact_at=parts["next_contact_at"], now=timezone.now()
    )
    return _fragment(
        request,
        "commitments/_composer_feedback.html",
        {
            "commitment": commitment,
            "customer": commitment.customer,
            "preview": preview,
            "written": bool(message),
            "warnings": composer.warning_rows(preview.warnings),
        },
    )


# --- Honest promises --------------------------------------------------------------------------


@staff_page
@require_GET
def promise_proposal(request: HttpRequest) -> HttpResponse:
    """htmx, when the agent gives their own target: the time to promise the customer, and why."""
    user = _user(request)
    now = timezone.now()
    form = LogPromiseForm(request.GET, user=user, teams=list(selectors.teams_of(user=user)), now=now)
    target = form.target()
    proposal = None
    if target is not None and target > now:
        proposal = promises.propose_promise(owner=form.chosen_owner(), team=form.chosen_team, target_at=target, now=now)
    return _fragment(
        request,
        "commitments/_promise_proposal.html",
        {"proposal": proposal, "zone": form.zone, "target_given": bool(request.GET.get("target_at"))},
    )


# --- The team's glossary ----------------------------------------------------------------------


def _team_of(request: HttpRequest, pk: int) -> Team:
    team = selectors.teams_of(user=_user(request)).filter(pk=pk).first()
    if team is None:
        raise Http404
    return team


class GlossaryTermForm(forms.Form):
    term = forms.CharField(label="Jargon", required=False, help_text="As the team writes it, e.g. “RMA”.")
    plain = forms.CharField(label="Plain words", required=False, help_text="What to tell the customer instead.")


@staff_page
@require_http_methods(["GET", "POST"])
def team_glossary(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_of(request, pk)
    user = _user(request)
    form = GlossaryTermForm()
    status = 200
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                glossary.remove_term(actor=user, team=team, term_id=int(request.POST["remove"] or 0))
                messages.success(request, "Removed from the glossary.")
                return redirect("commitments:glossary", pk=team.pk)
            form = GlossaryTermForm(request.POST)
            form.is_valid()
            entry = glossary.save_term(
                actor=user, team=team, term=form.cleaned_data["term"], plain=form.cleaned_data["plain"]
            )
            messages.success(request, f"Saved: the coach suggests “{entry.plain}” instead of “{entry.term}”.")
            return redirect("commitments:glossary", pk=team.pk)
        except InvalidInput as error:
            add_service_errors(form, error.errors)
            status = 400
        except NotAllowed as refusal:
            messages.error(request, str(refusal))
            status = 403
    return render(
        request,
        "commitments/glossary.html",
        {
            "team": team,
            "terms": glossary.terms_of(team=team),
            "form": form,
            "can_edit": glossary.can_edit(user=user, team=team),
            "nav": "team",
        },
        status=status,
    )


# --- The team's message templates -------------------------------------------------------------


class TeamTemplateForm(forms.Form):
    subject = forms.CharField(label="Email subject", required=False)
    body = forms.CharField(label="Email text", required=False, widget=forms.Textarea(attrs={"rows": 8}))
    sms = forms.CharField(label="Text message", required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _kind_or_404(kind: str) -> str:
    if kind not in {str(value) for value in CUSTOMER_KINDS}:
        raise Http404
    return kind


@staff_page
@require_GET
def team_templates_list(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_of(request, pk)
    current = team_templates.current_versions(team=team)
    kinds = [(kind, MessageKind(kind).label, current.get(kind)) for kind in team_templates.KINDS]
    return render(
        request,
        "notifications/team_templates.html",
        {
            "team": team,
            "kinds": kinds,
            "can_edit": team_templates.can_edit(user=_user(request), team=team),
            "nav": "team",
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def team_template_edit(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    team = _team_of(request, pk)
    kind = _kind_or_404(kind)
    user = _user(request)
    current = team_templates.current(team=team, kind=kind)
    status = 200
    if request.method == "POST":
        form = TeamTemplateForm(request.POST)
        form.is_valid()
        try:
            if "undo" in request.POST:
                team_templates.undo(actor=user, team=team, kind=kind)
                messages.success(request, "Undone: the previous version is back in use.")
            elif "use_default" in request.POST:
                team_templates.use_default(actor=user, team=team, kind=kind)
                messages.success(request, "The product's own wording is back in use.")
            else:
                saved = team_templates.save(actor=user, team=team, kind=kind, **form.cleaned_data)
                messages.success(request, f"Saved as version {saved.version}.")
            return redirect("commitments:template", pk=team.pk, kind=kind)
        except InvalidInput as error:
            add_service_errors(form, error.errors)
            status = 400
        except NotAllowed as refusal:
            messages.error(request, str(refusal))
            status = 403
    else:
        form = TeamTemplateForm(initial=team_templates.initial_words(team=team, kind=kind))
    return render(
        request,
        "notifications/team_template.html",
        {
            "team": team,
            "kind": kind,
            "kind_label": MessageKind(kind).label,
            "form": form,
            "current": current,
            "versions": team_templates.versions(team=team, kind=kind),
            "variables": team_templates.VARIABLES,
            "preview": team_templates.preview(team=team, kind=kind, **_typed(form)),
            "can_edit": team_templates.can_edit(user=user, team=team),
            "nav": "team",
        },
        status=status,
    )


def _typed(form: TeamTemplateForm) -> dict[str, str]:
    if form.is_bound:
        return {name: str(form.data.get(name, "")) for name in ("subject", "body", "sms")}
    return {name: str(form.initial.get(name, "")) for name in ("subject", "body", "sms")}


@staff_page
@require_POST
def team_template_preview(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """htmx, as the lead types: the message on both channels, or what is wrong with the template."""
    team = _team_of(request, pk)
    kind = _kind_or_404(kind)
    form = TeamTemplateForm(request.POST)
    return _fragment(
        request,
        "notifications/_team_template_preview.html",
        {"preview": team_templates.preview(team=team, kind=kind, **_typed(form))},
    )
