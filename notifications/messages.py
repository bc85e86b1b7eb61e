"""What each message says: templates per kind under ``templates/notifications/``.

Each kind has one template with a ``subject``, a ``body`` (the email text) and, for customers, an
``sms`` block. The email body is wrapped in a text layout and an HTML layout, so every customer
email carries the status link, the owner and the team the same way. Customers read times in their
own zone; staff in their team's zone. The words are plain: no hedging, no "if" in an apology.
"""

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.template import Context
from django.template.base import Template as CompiledTemplate
from django.template.loader import get_template
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from accounts.models import User
from commitments.models import RUNNING_STATUSES, Channel, Commitment, Status
from commitments.status_links import token_for
from notifications import quiet_hours
from notifications.models import Kind

SUBJECT_LIMIT = 200
# Two concatenated segments: 2 x 153 GSM-7 characters, or 2 x 67 UCS-2 code units.
SMS_SEGMENTS = 2

# What a customer is told on a call, by the kind of message the call stands for.
CALL_TOPICS: dict[str, str] = {
    Kind.ACKNOWLEDGEMENT: "confirm our promise",
    Kind.STATUS_UPDATE: "give a status update",
    Kind.RESCHEDULE: "tell them the new time",
    Kind.WAITING: "ask for what we need",
    Kind.RESOLUTION: "tell them it is done",
    Kind.SATISFACTION_CHECK: "ask whether it is solved",
    Kind.APOLOGY: "apologise for the missed promise",
    Kind.CANCELLATION: "tell them it is cancelled",
}

STATUS_LABELS: dict[str, str] = {
    Status.OPEN: "open",
    Status.WAITING: "waiting on the customer",
    Status.FULFILLED: "fulfilled",
    Status.CONFIRMED: "confirmed by the customer",
    Status.REOPENED: "reopened",
    Status.MISSED: "missed",
    Status.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str = ""


# --- Time and words -------------------------------------------------------------------------


def _clock(local: datetime) -> str:
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def long_time(moment: datetime, zone: ZoneInfo, *, now: datetime | None = None) -> str:
    """``Wednesday 25 November at 3:00 PM EST`` (the year only when it is not this year's)."""
    local = moment.astimezone(zone)
    year = "" if local.year == (now or timezone.now()).astimezone(zone).year else f" {local.year}"
    return f"{local:%A} {local.day} {local:%B}{year} at {_clock(local)} {local.tzname()}"


def short_time(moment: datetime, zone: ZoneInfo) -> str:
    """``Wed 25 Nov 3:00 PM EST``: for texts, where every character counts."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b} {_clock(local)} {local.tzname()}"


def describe_duration(value: timedelta) -> str:
    """``2 days 3 hours``, ``4 hours``, ``8 seconds``: the largest unit and the next one, rounded."""
    seconds = max(0, round(value.total_seconds()))
    if seconds >= 86400:
        seconds = round(seconds / 3600) * 3600
    elif seconds >= 3600:
        seconds = round(seconds / 60) * 60
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    for index, (name, size) in enumerate(units):
        if seconds >= size:
            major, rest = divmod(seconds, size)
            parts = [_plural(major, name)]
            if index + 1 < len(units) and rest >= units[index + 1][1]:
                parts.append(_plural(rest // units[index + 1][1], units[index + 1][0]))
            return " ".join(parts)
    return "0 seconds"


def every(value: timedelta) -> str:
    """``every day``, ``every 6 hours``."""
    words = describe_duration(value)
    return f"every {words[2:]}" if words.startswith("1 ") and " " not in words[2:] else f"every {words}"


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def as_sentence(text: str) -> str:
    """The words with a full stop, unless they already end a sentence."""
    text = (text or "").strip()
    if not text or text[-1] in ".!?…:)\"'":
        return text
    return f"{text}."


def as_phrase(text: str) -> str:
    """The words on one line without a trailing full stop, to sit inside a sentence."""
    return " ".join((text or "").split()).rstrip(".").strip()


def first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0] or "there"


def readable_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


# --- Texts: GSM-7 and segments ----------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
# Typography that agents' keyboards put in, written the GSM-7 way so a text stays cheap.
GSM7_LOOKALIKES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‒": "-",
        "−": "-",
        "…": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "•": "-",
        "·": "-",
        "\t": " ",
    }
)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def sms_length(text: str) -> tuple[int, str]:
    """How long a text is in its encoding's units, and the encoding (``GSM-7`` or ``UCS-2``)."""
    if is_gsm7(text):
        return sum(2 if char in GSM7_EXTENDED else 1 for char in text), "GSM-7"
    return len(text.encode("utf-16-le")) // 2, "UCS-2"


def sms_segments(text: str) -> int:
    length, encoding = sms_length(text)
    single, part = (160, 153) if encoding == "GSM-7" else (70, 67)
    return 1 if length <= single else math.ceil(length / part)


def sms_limit(text: str) -> int:
    _, encoding = sms_length(text)
    return SMS_SEGMENTS * (153 if encoding == "GSM-7" else 67)


def gsm_friendly(text: str) -> str:
    """One line of plain text, smart punctuation written the GSM-7 way."""
    return re.sub(r"\s+", " ", text.translate(GSM7_LOOKALIKES)).strip()


def shorten(text: str, excess: int) -> str:
    """``text`` less ``excess`` characters (and a few more for the ``...``), cut at a word."""
    keep = max(0, len(text) - excess - 3)
    if keep == 0:
        return ""
    cut = text[:keep]
    if " " in cut[keep // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + "..."


# --- Templates ------------------------------------------------------------------------------


def _compiled(name: str) -> CompiledTemplate:
    return get_template(name).template  # type: ignore[attr-defined]


def _render_blocks(name: str, context: Mapping[str, Any], blocks: tuple[str, ...]) -> dict[str, str]:
    """Render the named ``{% block %}``s of one template as plain text (no HTML escaping)."""
    compiled = _compiled(name)
    nodes: dict[str, BlockNode] = {
        node.name: node for node in compiled.nodelist.get_nodes_by_type(BlockNode) if isinstance(node, BlockNode)
    }
    rendered: dict[str, str] = {}
    ctx = Context(dict(context), autoescape=False)
    with ctx.render_context.push_state(compiled), ctx.bind_template(compiled):
        for block in blocks:
            node = nodes.get(block)
            # Django marks what it renders as safe HTML; these are plain words, to be escaped in HTML.
            rendered[block] = str.__str__(node.render(ctx)) if node is not None else ""
    return rendered


def _render_text(name: str, context: Mapping[str, Any]) -> str:
    """A whole plain-text template (no HTML escaping)."""
    return str.__str__(_compiled(name).render(Context(dict(context), autoescape=False)))


def _tidy(text: str) -> str:
    """Template whitespace out: no trailing spaces, no runs of blank lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def _html_context(audience: str, context: Mapping[str, Any], subject: str, body: str) -> dict[str, Any]:
    """What the HTML layout shows around the body: facts, the one button, the footer."""
    paragraphs = _paragraphs(body)
    common = {
        "subject": subject,
        "heading": subject,
        "preheader": paragraphs[0] if paragraphs else subject,
        "paragraphs": paragraphs,
        "team_name": context["team_name"],
    }
    if audience == "staff":
        return {
            **common,
            "greeting": "",
            "facts": [
                ("Customer", context["customer_contact"]),
                ("Promise", context["summary"]),
                ("Owner", context["owner_name"]),
                ("Due", context["due"]),
                ("Status", context["status_label"]),
            ],
            "action_url": context["commitment_url"],
            "action_label": "Open the commitment",
            "signature": "",
            "footer": f"Followthrough, {context['team_name']}. Times are the team's: {context['team_zone']}.",
        }
    facts = [("Our promise", context["summary"]), ("Owner", f"{context['owner_name']}, {context['team_name']}")]
    if context["shows_due"]:
        facts.append(("Due", context["due"]))
    if context["shows_next"]:
        facts.append(("Next update", f"by {context['next_contact']}"))
    return {
        **common,
        "greeting": f"Hi {context['first_name']},",
        "facts": facts,
        "action_url": context["status_url"],
        "action_label": "See where it stands",
        "signature": f"{context['owner_name']}\n{context['team_name']}",
        "footer": (
            f"You receive this because {context['team_name']} made you a promise. "
            "Your status page lets you change how we reach you."
        ),
    }


def _render_directly(form: str, template: str, context: Mapping[str, Any]) -> Content:
    """Render one message: ``form`` is ``customer`` or ``staff`` (email) or ``script`` (a call)."""
    parts = _render_blocks(template, context, ("subject", "body"))
    subject, body = parts["subject"], _tidy(parts["body"])
    if form == "script":
        return Content(subject=subject, text=body)
    text = _tidy(_render_text(f"notifications/email/{form}.txt", {**context, "body": body}))
    html = _compiled("notifications/email/layout.html").render(
        Context(_html_context(form, context, subject, body), autoescape=True)
    )
    return Content(subject=subject, text=text, html=html)


# --- Frames: each template rendered once per shape, then filled in ----------------------------
#
# A sweep writes thousands of messages that differ only in their words (names, times, links),
# not in their shape (which ``{% if %}`` branches hold). So each template is rendered once per
# shape with markers in place of the words, and each message fills the markers in: the words
# as they are in text, escaped in HTML. A template whose markers do not come through intact
# (a filter that changed a word) is simply rendered directly every time.

_MARK = re.compile("\x02([a-z_]+)\x03")
_MARK_CHARS = str.maketrans("", "", "\x02\x03")
# Strings that choose a branch (``{% if occasion == "missed" %}``) rather than being words.
STRUCTURAL = frozenset({"occasion"})
_FRAME_LIMIT = 2000


@dataclass(frozen=True)
class _Frame:
    subject: str
    text: str
    html: str


_frames: dict[tuple[Any, ...], _Frame | None] = {}


def _words_and_shape(context: Mapping[str, Any]) -> tuple[dict[str, str], tuple[Any, ...]]:
    words = {
        key: value.translate(_MARK_CHARS)
        for key, value in context.items()
        if isinstance(value, str) and key not in STRUCTURAL
    }
    shape = (
        tuple(sorted((key, value) for key, value in context.items() if key not in words)),
        tuple(sorted(key for key, value in words.items() if not value)),
    )
    return words, shape


def _marked(context: Mapping[str, Any], words: Mapping[str, str]) -> dict[str, Any]:
    return {**context, **{key: f"\x02{key}\x03" for key, value in words.items() if value}}


def _intact(frame: str, words: Mapping[str, str]) -> bool:
    rest = _MARK.sub("", frame)
    return "\x02" not in rest and "\x03" not in rest and all(key in words for key in _MARK.findall(frame))


def _fill(frame: str, words: Mapping[str, str]) -> str:
    return _MARK.sub(lambda match: words[match.group(1)], frame)


def _fill_html(frame: str, words: Mapping[str, str]) -> str:
    escaped: dict[str, str] = {}

    def escape(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in escaped:  # As Django's autoescape and ``linebreaksbr`` write it.
            escaped[key] = html.escape(words[key]).replace("\n", "<br>")
        return escaped[key]

    return _MARK.sub(escape, frame)


def _compose(form: str, template: str, context: Mapping[str, Any]) -> Content:
    words, shape = _words_and_shape(context)
    key = (form, template, id(_compiled(template)), shape)
    if key not in _frames:
        if len(_frames) >= _FRAME_LIMIT:
            _frames.clear()
        marked = _render_directly(form, template, _marked(context, words))
        parts = (marked.subject, marked.text, marked.html)
        _frames[key] = _Frame(*parts) if all(_intact(part, words) for part in parts) else None
    frame = _frames[key]
    if frame is None:
        content = _render_directly(form, template, context)
    else:
        content = Content(_fill(frame.subject, words), _fill(frame.text, words), _fill_html(frame.html, words))
    return Content(gsm_friendly(content.subject)[:SUBJECT_LIMIT], content.text, content.html)


def _compose_sms(template: str, context: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The text block as a frame (or rendered directly), and the words that fill it in."""
    words, shape = _words_and_shape(context)
    words = {key: gsm_friendly(value) for key, value in words.items()}
    key = ("sms", template, id(_compiled(template)), shape)
    if key not in _frames:
        marked = gsm_friendly(_render_blocks(template, _marked(context, words), ("sms",))["sms"])
        _frames[key] = _Frame("", marked, "") if _intact(marked, words) else None
    frame = _frames[key]
    return (frame.text if frame else ""), words


# --- Customer messages ----------------------------------------------------------------------


def next_contact_time(commitment: Commitment, *, now: datetime) -> datetime | None:
    """When the customer hears from us next at the latest: the next update, or the due time."""
    if commitment.status in RUNNING_STATUSES and commitment.due_at > now:
        if commitment.next_update_at is None:
            return commitment.due_at
        return min(commitment.next_update_at, commitment.due_at)
    if commitment.status in (Status.WAITING, Status.MISSED, *RUNNING_STATUSES):
        return commitment.next_update_at
    return None


def status_url(commitment: Commitment) -> str:
    """The customer's status link (``commitment.status_url``), without resolving the URL each time."""
    prefix, suffix = _status_path_around_token(get_script_prefix())
    return f"{settings.SITE_URL}{prefix}{token_for(commitment.status_token_nonce)}{suffix}"


@lru_cache(maxsize=8)
def _status_path_around_token(script_prefix: str) -> tuple[str, str]:
    placeholder = "TOKEN"
    prefix, _, suffix = reverse("customer:status", args=[placeholder]).partition(placeholder)
    return prefix, suffix


def customer_context(
    commitment: Commitment,
    *,
    message: str = "",
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or timezone.now()
    customer = commitment.customer
    zone = customer.zone
    next_contact = next_contact_time(commitment, now=now) or now
    since = since or commitment.last_update_at or commitment.created_at
    satisfaction_on = commitment.satisfaction_due_at or (now + settings.FOLLOWTHROUGH_SATISFACTION_AFTER)
    return {
        "first_name": first_name(customer.name),
        "customer_name": customer.name,
        "summary": as_phrase(commitment.summary),
        "owner_name": commitment.owner.display_name,
        "team_name": commitment.team.name,
        "due": long_time(commitment.due_at, zone, now=now),
        "due_short": short_time(commitment.due_at, zone),
        "next_contact": long_time(next_contact, zone, now=now),
        "next_contact_short": short_time(next_contact, zone),
        "since": long_time(since, zone, now=now),
        "since_short": short_time(since, zone),
        "message": as_sentence(message),
        "reason": as_sentence(message),
        "request": as_sentence(message or commitment.waiting_request),
        "waiting_request": as_sentence(commitment.waiting_request),
        "resolution": as_sentence(message or commitment.resolution),
        "fulfilled": long_time(commitment.fulfilled_at or now, zone, now=now),
        "satisfaction_on": long_time(satisfaction_on, zone, now=now),
        "is_waiting": commitment.status == Status.WAITING,
        "is_missed": commitment.status == Status.MISSED,
        "is_reopened": commitment.status == Status.REOPENED,
        "shows_due": commitment.status in (*RUNNING_STATUSES, Status.MISSED),
        "shows_next": commitment.status in (*RUNNING_STATUSES, Status.MISSED, Status.WAITING),
        "status_url": status_url(commitment),
    }


def render_customer_message(
    commitment: Commitment,
    kind: str,
    *,
    message: str = "",
    channel: str = Channel.EMAIL,
    since: datetime | None = None,
    now: datetime | None = None,
) -> Content:
    """The customer's message of this kind: email (subject, text, HTML) or a short text.

    For the phone channel the content is the script the owner reads out: the email's words.
    """
    context = customer_context(commitment, message=message, since=since, now=now)
    template = f"notifications/customer/{kind}.txt"
    if channel == Channel.SMS:
        return Content(subject="", text=_fit_sms(template, context))
    return _compose("script" if channel == Channel.PHONE else "customer", template, context)


# The free text a long message gives up first, in this order; never the link or the times.
SHORTENED_FIRST = ("message", "reason", "request", "waiting_request", "resolution", "summary")


def _fit_sms(template: str, context: Mapping[str, Any]) -> str:
    """The text block as one GSM-7 friendly line of at most two segments, status link kept."""
    frame, words = _compose_sms(template, context)

    def write() -> str:
        if frame:
            return _fill(frame, words)
        return gsm_friendly(_render_blocks(template, {**context, **words}, ("sms",))["sms"])

    text = write()
    for field in SHORTENED_FIRST:
        excess = sms_length(text)[0] - sms_limit(text)
        if excess <= 0:
            break
        if words.get(field) and words[field] in text:
            words[field] = shorten(words[field], excess)
            text = write()
    if words["status_url"] not in text:  # Every message to a customer carries the link.
        text = f"{text} {words['status_url']}"
    return text


# --- Staff messages -------------------------------------------------------------------------


def staff_context(
    commitment: Commitment,
    *,
    recipient: User | None,
    message: str = "",
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or timezone.now()
    team = commitment.team
    zone = team.zone
    customer = commitment.customer
    contact = ", ".join(part for part in (customer.email, customer.phone) if part)
    # Written out for reading aloud only where someone is to call (it costs a parse).
    calling = bool(details and "call_kind" in details)
    context: dict[str, Any] = {
        "summary": as_phrase(commitment.summary),
        "customer_name": customer.name,
        "customer_contact": f"{customer.name} ({contact})" if contact else customer.name,
        "phone": (readable_phone(customer.phone) if calling else customer.phone) or "(no number on file)",
        "owner_name": commitment.owner.display_name,
        "is_owner": recipient is not None and recipient.pk == commitment.owner_id,
        "team_name": team.name,
        "team_zone": team.timezone,
        "due": long_time(commitment.due_at, zone, now=now),
        "time_left": describe_duration(commitment.due_at - now),
        "overdue": describe_duration(now - commitment.due_at),
        "every_interval": every(commitment.update_interval),
        "last_update": long_time(commitment.last_update_at, zone, now=now) if commitment.last_update_at else "none",
        "next_update": long_time(commitment.next_update_at, zone, now=now) if commitment.next_update_at else "none",
        "status_label": STATUS_LABELS.get(commitment.status, commitment.status),
        "status_url": status_url(commitment),
        "commitment_url": f"{settings.SITE_URL}{_commitment_path(commitment.pk)}",
        "message": as_sentence(message),
        "occasion": "",
    }
    for key, value in (details or {}).items():
        context[key] = long_time(value, zone, now=now) if isinstance(value, datetime) else value
    if details and "call_kind" in details:
        context["call_topic"] = CALL_TOPICS.get(details["call_kind"], "talk it through")
    return context


def _commitment_path(pk: int) -> str:
    prefix, suffix = _commitment_path_around_id(get_script_prefix())
    return f"{prefix}{pk}{suffix}"


@lru_cache(maxsize=8)
def _commitment_path_around_id(script_prefix: str) -> tuple[str, str]:
    prefix, _, suffix = reverse("commitments:detail", args=[987654321]).partition("987654321")
    return prefix, suffix


def render_staff_message(
    commitment: Commitment,
    kind: str,
    *,
    message: str = "",
    recipient: User | None = None,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Content:
    """An email to a member of staff, in the team's time zone, linking to the commitment.

    ``details`` adds to what the template knows; for an ``escalation``, ``occasion`` says which:
    ``warning`` (with ``step`` and ``last_step``), ``missed``, ``reminder`` or ``call_not_made``.
    """
    context = staff_context(commitment, recipient=recipient, message=message, details=details, now=now)
    return _compose("staff", f"notifications/staff/{kind}.txt", context)


def render_call_task(
    commitment: Commitment,
    customer_kind: str,
    *,
    script: str,
    recipient: User | None,
    escalate_at: datetime,
    now: datetime | None = None,
) -> Content:
    """The owner's task to call a customer who prefers the phone, with what to say."""
    now = now or timezone.now()
    zone = commitment.customer.zone
    allowed = quiet_hours.text_allowed_from(now, zone)
    details = {
        "call_kind": customer_kind,
        "script": script,
        "escalate_at": escalate_at,
        "customer_now": short_time(now, zone),
        "call_from": short_time(allowed, zone) if allowed > now else "",
    }
    return render_staff_message(commitment, Kind.CALL_TASK, recipient=recipient, details=details, now=now)
