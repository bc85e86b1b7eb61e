"""A team's own wording for each kind of customer message: validated, versioned, previewed.

A lead writes the email subject, the email text and the text message in Django's template
language, with the words every customer message knows (``{{ first_name }}``, ``{{ due }}``,
``{{ status_url }}``...) and ``{% if %}`` on the message's shape (``is_missed``...). Nothing
else: no other tag, no unknown word, so a template that would break or say nothing cannot be
saved. Each save is a new version; undo puts the previous one back as a newer version, so the
history is never rewritten. A team without a version of its own (or whose newest version says
``uses_default``) gets the product's wording from ``templates/notifications/customer/``.

``notifications.wording`` asks ``template_for`` at one point, for every customer message; the
team row names the version in use, so that costs no query.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.template import TemplateSyntaxError, engines
from django.template.base import Lexer, TokenType
from django.template.loader import get_template
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments.errors import InvalidInput, NotAllowed
from notifications import segments
from notifications.models import CUSTOMER_KINDS, MessageKind, TeamTemplate

KINDS = [kind for kind in MessageKind if kind in CUSTOMER_KINDS]
FIELDS = ("subject", "body", "sms")
FIELD_LABELS = {"subject": "email subject", "body": "email text", "sms": "text message"}

# What a lead can write with: the words of a customer message, and the shape's switches.
VARIABLES: dict[str, str] = {
    "first_name": "The customer's first name",
    "customer_name": "The customer's full name",
    "summary": "What was promised",
    "owner_name": "The owner's name",
    "team_name": "The team's name",
    "message": "The agent's own words (update, reason, resolution)",
    "reason": "Why the time changed",
    "request": "What we need from the customer",
    "waiting_request": "What we are waiting for",
    "resolution": "What was done",
    "due": "The promised time, written out",
    "due_short": "The promised time, short (for texts)",
    "next_contact": "When the customer hears from us next",
    "next_contact_short": "When they hear from us next, short",
    "since": "The last update's time",
    "since_short": "The last update's time, short",
    "fulfilled": "When it was fulfilled",
    "satisfaction_on": "When we ask whether it is solved",
    "status_url": "The customer's status page",
    "is_waiting": "Yes while we wait on the customer",
    "is_missed": "Yes once the promised time passed",
    "is_reopened": "Yes when the customer said it is not solved",
    "shows_due": "Yes when the message shows the due time",
    "shows_next": "Yes when it shows the next update",
}
ALLOWED_TAGS = frozenset({"if", "elif", "else", "endif", "comment", "endcomment"})
IF_WORDS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">=", "None", "True", "False"})
_LITERAL = re.compile(r"""^(?:"[^"]*"|'[^']*'|-?\d+(?:\.\d+)?)$""")

# --- Validation -----------------------------------------------------------------------------------


def _name_of(expression: str) -> str | None:
    """The variable an expression starts with (``due`` in ``due|upper``), None for a literal."""
    head = expression.split("|")[0].strip()
    if not head or _LITERAL.match(head):
        return None
    return head.split(".")[0]


def problems(source: str) -> list[str]:
    """What is wrong with one part of a template ([] when it can be saved)."""
    found: list[str] = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.VAR:
            name = _name_of(token.contents)
            if name is not None and name not in VARIABLES:
                found.append(f"Unknown variable “{name}”: use one of the words listed beside the form.")
        elif token.token_type == TokenType.BLOCK:
            words = token.split_contents()
            tag = words[0] if words else ""
            if tag not in ALLOWED_TAGS:
                found.append(f"“{{% {tag} %}}” is not allowed here: only if, elif, else and endif.")
            elif tag in ("if", "elif"):
                for word in words[1:]:
                    name = _name_of(word)
                    if word not in IF_WORDS and name is not None and name not in VARIABLES:
                        found.append(f"Unknown variable “{name}”: use one of the words listed beside the form.")
    if found:
        return list(dict.fromkeys(found))
    try:
        engines["django"].from_string(source)
    except TemplateSyntaxError as error:
        return [f"The template does not read: {error}"]
    return []


def validate(*, subject: str, body: str, sms: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, source in (("subject", subject), ("body", body), ("sms", sms)):
        if not source.strip():
            errors[name] = [f"Write the {FIELD_LABELS[name]}."]
            continue
        found = problems(source)
        if found:
            errors[name] = found
    if "subject" not in errors and "\n" in subject.strip():
        errors["subject"] = ["Keep the subject on one line."]
    return errors


def _source(*, subject: str, body: str, sms: str) -> str:
    return (
        f"{{% block subject %}}{subject.strip()}{{% endblock %}}"
        f"{{% block body %}}{body.strip()}{{% endblock %}}"
        f"{{% block sms %}}{sms.strip()}{{% endblock %}}"
    )


# --- Versions ---------------------------------------------------------------------------------------


def can_edit(*, user: User, team: Team) -> bool:
    return user.is_superuser or Membership.objects.filter(user=user, team=team, role=Membership.Role.LEAD).exists()


def current(*, team: Team, kind: str) -> TeamTemplate | None:
    """The newest version (None when the team never wrote one)."""
    return TeamTemplate.objects.filter(team=team, kind=kind).order_by("-version").first()


def current_versions(*, team: Team) -> dict[str, TeamTemplate]:
    newest: dict[str, TeamTemplate] = {}
    for version in TeamTemplate.objects.filter(team=team).order_by("kind", "-version"):
        newest.setdefault(version.kind, version)
    return newest


def versions(*, team: Team, kind: str, limit: int = 20) -> list[TeamTemplate]:
    return list(TeamTemplate.objects.filter(team=team, kind=kind).select_related("created_by")[:limit])


def _check(actor: User, team: Team, kind: str) -> None:
    if kind not in CUSTOMER_KINDS:
        raise InvalidInput({"kind": [f"Choose one of: {', '.join(KINDS)}."]})
    if not can_edit(user=actor, team=team):
        raise NotAllowed("Only a lead of this team can change its message templates.")


def _add_version(actor: User, team: Team, kind: str, **words: Any) -> TeamTemplate:
    locked = Team.objects.select_for_update().get(pk=team.pk)  # One version number at a time per team.
    latest = current(team=team, kind=kind)
    saved = TeamTemplate.objects.create(
        team=team, kind=kind, version=(latest.version + 1) if latest else 1, created_by=actor, **words
    )
    in_use = dict(locked.message_templates or {})
    if saved.uses_default:
        in_use.pop(kind, None)
    else:
        in_use[kind] = saved.pk
    Team.objects.filter(pk=team.pk).update(message_templates=in_use)
    team.message_templates = in_use
    return saved


@transaction.atomic
def save(*, actor: User, team: Team, kind: str, subject: str, body: str, sms: str) -> TeamTemplate:
    """A new version of the team's wording for ``kind``; refused, field by field, if it would not work."""
    _check(actor, team, kind)
    errors = validate(subject=subject, body=body, sms=sms)
    if errors:
        raise InvalidInput(errors)
    return _add_version(actor, team, kind, subject=subject.strip(), body=body.strip(), sms=sms.strip())


@transaction.atomic
def undo(*, actor: User, team: Team, kind: str) -> TeamTemplate:
    """Put the version before the newest back in use (as a new version: history is kept)."""
    _check(actor, team, kind)
    newest_two = list(TeamTemplate.objects.filter(team=team, kind=kind).order_by("-version")[:2])
    if not newest_two:
        raise InvalidInput({"kind": ["There is nothing to undo: the team uses the product's wording."]})
    if len(newest_two) == 1:
        return _add_version(actor, team, kind, uses_default=True)
    previous = newest_two[1]
    return _add_version(
        actor,
        team,
        kind,
        subject=previous.subject,
        body=previous.body,
        sms=previous.sms,
        uses_default=previous.uses_default,
    )


@transaction.atomic
def use_default(*, actor: User, team: Team, kind: str) -> TeamTemplate:
    _check(actor, team, kind)
    return _add_version(actor, team, kind, uses_default=True)


# --- Rendering --------------------------------------------------------------------------------------


def _compile(name: str, source: str) -> str:
    from notifications.wording import templates

    templates.use_compiled(name, engines["django"].from_string(source).template)  # type: ignore[attr-defined]
    return name


def template_for(team: Team, kind: str) -> str | None:
    """The name of the team's template for ``kind``, compiled and ready; None for the product's wording.

    The team row says which version is in use, so the usual case (no wording of its own, or a
    version already compiled in this process) costs no query.
    """
    version_id = (team.message_templates or {}).get(kind)
    if not version_id:
        return None
    name = f"team-template:{version_id}"
    from notifications.wording import templates

    if not templates.is_compiled(name):  # A saved version never changes: compiled once per process.
        version = TeamTemplate.objects.filter(pk=version_id).first()
        if version is None:
            return None
        _compile(name, _source(subject=version.subject, body=version.body, sms=version.sms))
    return name


def default_words(kind: str) -> dict[str, str]:
    """The product's own wording for ``kind``, as a lead would edit it."""
    source = get_template(f"notifications/customer/{kind}.txt").template.source  # type: ignore[attr-defined]
    # The product's wording is marked for translation; a lead edits the (English) words themselves.
    source = re.sub(r"{%\s*load i18n\s*%}|{%\s*(?:end)?blocktranslate\s*%}", "", source)
    source = re.sub(r'{%\s*translate\s+"((?:[^"\\]|\\.)*)"\s*%}', r"\1", source)
    words = {}
    for name in FIELDS:
        match = re.search(r"{%\s*block " + name + r"\s*%}(.*?){%\s*endblock\s*%}", source, re.DOTALL)
        words[name] = match.group(1).strip() if match else ""
    return words


def initial_words(*, team: Team, kind: str) -> dict[str, str]:
    version = current(team=team, kind=kind)
    if version is None or version.uses_default:
        return default_words(kind)
    return {"subject": version.subject, "body": version.body, "sms": version.sms}


# --- Preview ----------------------------------------------------------------------------------------

SAMPLE_MESSAGES = {
    MessageKind.STATUS_UPDATE: "The technician measured the boiler today; the estimate goes out this afternoon.",
    MessageKind.RESCHEDULE: "The part comes from the manufacturer and arrives a day later than we were told.",
    MessageKind.WAITING: "A photo of the label on the side of the water heater.",
    MessageKind.RESOLUTION: "The revised estimate is in your inbox: $1,240 including fitting.",
    MessageKind.CANCELLATION: "You told us you found another installer.",
}


@dataclass(frozen=True)
class TemplatePreview:
    errors: dict[str, list[str]]
    subject: str = ""
    text: str = ""
    sms: str = ""
    sms_length: int = 0
    sms_segments: int = 0
    encoding: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def preview(*, team: Team, kind: str, subject: str, body: str, sms: str) -> TemplatePreview:
    """The message of ``kind`` for a made-up customer of the team, on both channels, written as typed."""
    from commitments.models import Commitment, Customer, Status
    from notifications import wording
    from notifications.wording import templates

    errors = validate(subject=subject, body=body, sms=sms)
    if errors:
        return TemplatePreview(errors=errors)
    now = timezone.now()
    status = {
        MessageKind.APOLOGY: Status.MISSED,
        MessageKind.WAITING: Status.WAITING,
        MessageKind.RESOLUTION: Status.FULFILLED,
        MessageKind.SATISFACTION_CHECK: Status.FULFILLED,
        MessageKind.CANCELLATION: Status.CANCELLED,
    }.get(MessageKind(kind), Status.OPEN)
    owner = team.memberships.select_related("user").order_by("role", "pk").first()
    customer = Customer(name="Dana Whitfield", email="dana@example.com", phone="+12025550143", timezone=team.timezone)
    commitment = Commitment(
        customer=customer,
        team=team,
        owner=owner.user if owner else User(username="owner", first_name="Alex", last_name="Rivera"),
        summary="Send the revised estimate for the water heater",
        status=status,
        due_at=now + timedelta(days=2),
        update_interval=timedelta(days=1),
        last_update_at=now - timedelta(days=1),
        next_update_at=now + timedelta(days=1),
        created_at=now - timedelta(days=1),
        fulfilled_at=now if status == Status.FULFILLED else None,
        satisfaction_due_at=now + timedelta(days=1),
        waiting_request=SAMPLE_MESSAGES[MessageKind.WAITING],
        status_token_nonce="preview",
    )
    source = _source(subject=subject, body=body, sms=sms)
    name = f"team-template-preview:{hashlib.sha256(source.encode()).hexdigest()}"
    _compile(name, source)
    try:
        message = SAMPLE_MESSAGES.get(MessageKind(kind), "")
        email = wording.render_customer_message(commitment, kind, message=message, now=now, template=name)
        text = wording.render_customer_message(
            commitment, kind, message=message, channel="sms", now=now, template=name
        ).text
    finally:
        templates.forget_compiled(name)
    length, encoding = segments.sms_length(text)
    return TemplatePreview(
        errors={},
        subject=email.subject,
        text=email.text,
        sms=text,
        sms_length=length,
        sms_segments=segments.sms_segments(text),
        encoding=encoding,
    )
