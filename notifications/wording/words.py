"""What a message can say: its words, worked out the first time a template asks for each.

``CustomerWords`` are in the customer's zone and language; ``StaffWords`` in the team's zone, in
English. The templates under ``templates/notifications/`` choose which words a message uses.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation

from accounts.models import User
from commitments.models import RUNNING_STATUSES, STATUS_PHRASES, Commitment, Status
from commitments.status_links import status_url
from notifications.models import MessageKind
from notifications.time_words import (
    as_phrase,
    as_sentence,
    describe_duration,
    every,
    first_name,
    long_time,
    readable_phone,
    short_time,
)
from notifications.wording.templates import tidy_words

# What a customer is told on a call, by the kind of message the call stands for.
CALL_TOPICS: dict[str, str] = {
    MessageKind.ACKNOWLEDGEMENT: "confirm our promise",
    MessageKind.STATUS_UPDATE: "give a status update",
    MessageKind.RESCHEDULE: "tell them the new time",
    MessageKind.WAITING: "ask for what we need",
    MessageKind.RESOLUTION: "tell them it is done",
    MessageKind.SATISFACTION_CHECK: "ask whether it is solved",
    MessageKind.APOLOGY: "apologise for the missed promise",
    MessageKind.CANCELLATION: "tell them it is cancelled",
}


class Words(dict[str, str]):
    """The words of one message, each worked out the first time a template asks for it.

    A status update needs five of the twenty words a customer message can carry, and working out
    a time in the customer's zone costs more than filling it in: so the cheap words that may be
    empty (and so choose a template branch) are set at once, and the rest (times, links) wait in
    ``LATER`` until asked for. Values that choose a branch without being words (``is_missed``,
    ``occasion``, ``step``) are the message's ``structure``.
    """

    # The words every message about a commitment can say (in the reader's zone ``zone``).
    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {
        "due": lambda words: long_time(words.commitment.due_at, words.zone, now=words.now, language=words.language),
        "status_url": lambda words: status_url(words.commitment),
    }

    def __init__(
        self, commitment: Commitment, *, zone: ZoneInfo, now: datetime | None, language: str | None = None
    ) -> None:
        super().__init__()
        self.commitment = commitment
        self.zone = zone  # The reader's: the customer's, or the team's for staff.
        self.now = now or timezone.now()
        self.names: tuple[str, ...] = ()  # every word this message knows
        self.eager: tuple[str, ...] = ()  # the words set at once, that may be empty
        self.structure: dict[str, Any] = {}
        self._empty: tuple[str, ...] | None = None
        # The language (a catalog's code) the words are written in; by default the active one.
        self.language: str = language or translation.get_language() or settings.LANGUAGE_CODE

    def __missing__(self, name: str) -> str:
        work_out = self.LATER.get(name)
        if work_out is None:
            raise KeyError(name)
        word = self[name] = work_out(self)
        return word

    def empty(self) -> tuple[str, ...]:
        """The words that are empty: with the structure, they make the message's shape."""
        if self._empty is None:
            self._empty = tuple(name for name in self.eager if not self[name])
        return self._empty

    def context(self, structure: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every word and the structure, to render a template directly."""
        return {**(self.structure if structure is None else structure), **{name: self[name] for name in self.names}}


def next_contact_time(commitment: Commitment, *, now: datetime) -> datetime | None:
    """When the customer hears from us next at the latest: the next update, or the due time."""
    if commitment.status in RUNNING_STATUSES and commitment.due_at > now:
        if commitment.next_update_at is None:
            return commitment.due_at
        return min(commitment.next_update_at, commitment.due_at)
    if commitment.status in (Status.WAITING, Status.MISSED, *RUNNING_STATUSES):
        return commitment.next_update_at
    return None


# The statuses whose messages show the due time, and when the customer hears from us next.
SHOWS_DUE = frozenset((*RUNNING_STATUSES, Status.MISSED))
SHOWS_NEXT = frozenset((*RUNNING_STATUSES, Status.MISSED, Status.WAITING))


class CustomerWords(Words):
    """What a message to the customer can say, in the customer's zone."""

    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {
        **Words.LATER,
        "due_short": lambda words: short_time(words.commitment.due_at, words.zone, language=words.language),
        "next_contact": lambda words: long_time(words.next_contact, words.zone, now=words.now, language=words.language),
        "next_contact_short": lambda words: short_time(words.next_contact, words.zone, language=words.language),
        "since": lambda words: long_time(words.since, words.zone, now=words.now, language=words.language),
        "since_short": lambda words: short_time(words.since, words.zone, language=words.language),
        "fulfilled": lambda words: long_time(
            words.commitment.fulfilled_at or words.now, words.zone, now=words.now, language=words.language
        ),
        "satisfaction_on": lambda words: long_time(
            words.commitment.satisfaction_due_at or (words.now + settings.FOLLOWTHROUGH_SATISFACTION_AFTER),
            words.zone,
            now=words.now,
            language=words.language,
        ),
    }
    EAGER: ClassVar[tuple[str, ...]] = (
        "first_name",
        "customer_name",
        "summary",
        "owner_name",
        "team_name",
        "message",
        "reason",
        "request",
        "waiting_request",
        "resolution",
    )
    NAMES: ClassVar[tuple[str, ...]] = EAGER + tuple(LATER)

    def __init__(
        self,
        commitment: Commitment,
        *,
        message: str = "",
        since: datetime | None = None,
        now: datetime | None = None,
        language: str | None = None,
    ) -> None:
        customer = commitment.customer
        super().__init__(commitment, zone=customer.zone, now=now, language=language)
        self.since = since or commitment.last_update_at or commitment.created_at
        status = commitment.status
        self.structure = {
            "is_waiting": status == Status.WAITING,
            "is_missed": status == Status.MISSED,
            "is_reopened": status == Status.REOPENED,
            "shows_due": status in SHOWS_DUE,
            "shows_next": status in SHOWS_NEXT,
        }
        said = _said(message)
        waiting_request = _said(commitment.waiting_request)
        self.update(
            first_name=first_name(customer.name),
            customer_name=customer.name,
            summary=as_phrase(commitment.summary),
            owner_name=commitment.owner.display_name,
            team_name=commitment.team.name,
            message=said,
            reason=said,
            # The agent's words, else what the commitment says (even words that tidy to nothing).
            request=said if message else waiting_request,
            waiting_request=waiting_request,
            resolution=said if message else _said(commitment.resolution),
        )
        # The words set above are the eager ones (always these, in this order); the others are
        # worked out when asked for.
        self.eager = self.EAGER
        self.names = self.NAMES
        # A moment, not a word: a few comparisons, cheaper set here than looked up lazily.
        self.next_contact = next_contact_time(commitment, now=self.now) or self.now


def _said(text: str) -> str:
    """Free text as a message carries it: a sentence, tidied (most messages carry none)."""
    return tidy_words(as_sentence(text)) if text else ""


def _commitment_path(pk: int) -> str:
    prefix, suffix = _commitment_path_around_id(get_script_prefix())
    return f"{prefix}{pk}{suffix}"


@lru_cache(maxsize=8)
def _commitment_path_around_id(script_prefix: str) -> tuple[str, str]:
    prefix, _, suffix = reverse("commitments:detail", args=[987654321]).partition("987654321")
    return prefix, suffix


def _call_phone(words: "StaffWords") -> str:
    phone = words.commitment.customer.phone
    # Written out for reading aloud only where someone is to call (it costs a parse).
    return (readable_phone(phone) if words.calling else phone) or "(no number on file)"


def _last_update(words: "StaffWords") -> str:
    moment = words.commitment.last_update_at
    return long_time(moment, words.zone, now=words.now, language=words.language) if moment else "none"


def _next_update(words: "StaffWords") -> str:
    moment = words.commitment.next_update_at
    return long_time(moment, words.zone, now=words.now, language=words.language) if moment else "none"


class StaffWords(Words):
    """What a message to staff can say, in the team's zone; ``details`` add words and structure.

    The same words serve every recipient: only ``is_owner`` differs, and it is structure.
    """

    LATER: ClassVar[Mapping[str, Callable[[Any], str]]] = {
        **Words.LATER,
        "phone": _call_phone,
        "time_left": lambda words: describe_duration(words.commitment.due_at - words.now),
        "overdue": lambda words: describe_duration(words.now - words.commitment.due_at),
        "every_interval": lambda words: every(words.commitment.update_interval),
        "last_update": _last_update,
        "next_update": _next_update,
        "commitment_url": lambda words: f"{settings.SITE_URL}{_commitment_path(words.commitment.pk)}",
    }
    # Details that choose a branch although they are strings.
    STRUCTURAL = frozenset({"occasion"})

    def __init__(
        self,
        commitment: Commitment,
        *,
        message: str = "",
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        language: str | None = None,
    ) -> None:
        team = commitment.team
        super().__init__(commitment, zone=team.zone, now=now, language=language)
        customer = commitment.customer
        contact = ", ".join(part for part in (customer.email, customer.phone) if part)
        self.calling = bool(details and "call_kind" in details)
        self.update(
            summary=as_phrase(commitment.summary),
            customer_name=customer.name,
            customer_contact=f"{customer.name} ({contact})" if contact else customer.name,
            owner_name=commitment.owner.display_name,
            team_name=team.name,
            team_zone=team.timezone,
            status_label=STATUS_PHRASES.get(commitment.status, commitment.status),
            message=tidy_words(as_sentence(message)),
        )
        eager = list(self)  # The words set above; the others are worked out when asked for.
        names = [*eager, *self.LATER]
        self.structure = {"occasion": ""}
        self.moments: dict[str, datetime] = {}
        for key, value in (details or {}).items():
            if isinstance(value, datetime):
                self.moments[key] = value
                self.pop(key, None)
            elif isinstance(value, str) and key not in self.STRUCTURAL:
                self[key] = tidy_words(value)
                eager.append(key)
            else:
                self.structure[key] = value
                continue
            if key not in names:
                names.append(key)
        if self.calling:
            self["call_topic"] = CALL_TOPICS.get(details["call_kind"], "talk it through")  # type: ignore[index]
            names.append("call_topic")
            eager.append("call_topic")
        self.names, self.eager = tuple(names), tuple(dict.fromkeys(eager))

    def __missing__(self, name: str) -> str:
        moment = self.moments.get(name)
        if moment is None:
            return super().__missing__(name)
        word = self[name] = long_time(moment, self.zone, now=self.now, language=self.language)
        return word

    def for_recipient(self, recipient: User | None) -> dict[str, Any]:
        """The structure of the message to this member of staff."""
        return {**self.structure, "is_owner": recipient is not None and recipient.pk == self.commitment.owner_id}
