"""Every route of the URL configuration, read from Django's resolver, as concrete addresses.

Nothing here lists the routes by hand: a route added tomorrow is walked too. Each parameter is
filled with what an attacker would aim at (team A's commitment, customer, call task, links); a
parameter this table does not know fails the suite, so a new kind of route gets a deliberate value.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from commitments.models import Commitment, TimelineEvent
from commitments.views import MOVE_SLUGS
from dashboard.selectors import NOW_LISTS
from tests.security.conftest import TeamA


@dataclass(frozen=True)
class Route:
    pattern: str  # as written in the URL configuration, e.g. "commitments/<int:pk>/<slug:move>/"
    name: str  # "namespace:name", or "" for an unnamed pattern

    @property
    def is_customer_link(self) -> bool:
        return self.name.startswith("customer:")

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def _walk(patterns: list, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry.url_patterns, prefix + _text(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield Route(prefix + _text(entry.pattern), f"{namespace}{entry.name}" if entry.name else "")


def _text(pattern: object) -> str:
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return text
    return text.removeprefix("^").removesuffix("$")


PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)|\[\\s\\S\]\*|\.\*")


def addresses(route: Route, team_a: TeamA, *, token: str | None = None) -> list[str]:
    """The concrete paths for a route, aimed at team A (``token`` replaces the link token if given)."""
    values = _values(route, team_a, token)
    paths = [""]
    position = 0
    for match in PARAMETER.finditer(route.pattern):
        literal = route.pattern[position : match.start()]
        name = match.group("name") or match.group("group") or "rest"
        options = values.get(name)
        if options is None:
            raise AssertionError(f"tests/security/routes.py has no value for <{name}> in {route.pattern!r}")
        paths = [path + literal + option for path in paths for option in options]
        position = match.end()
    return ["/" + path + route.pattern[position:] for path in paths]


def _values(route: Route, team_a: TeamA, token: str | None) -> dict[str, list[str]]:
    commitment, customer = team_a.commitment, team_a.customer
    admin_objects = {
        "commitments_commitment": commitment.pk,
        "commitments_customer": customer.pk,
        "commitments_timelineevent": TimelineEvent.objects.filter(commitment=commitment).values_list("pk", flat=True)[
            0
        ],
        "notifications_notification": team_a.call_task.pk,
        "accounts_team": commitment.team_id,
        "accounts_user": commitment.owner_id,
    }
    model = next((key for key in admin_objects if f"/{key.replace('_', '/', 1)}/" in f"/{route.pattern}"), "")
    link_token = {
        "customer:confirm_contact": team_a.contact_token,
        "customer:unsubscribe": team_a.unsubscribe_token,
    }.get(route.name, team_a.status_token)
    return {
        "pk": [str(_pk_for(route, team_a))],
        "kind": ["status_update"],
        "key": [entry.key for entry in NOW_LISTS],  # the dashboard's lists, each as CSV
        "task_pk": [str(team_a.call_task.pk)],
        "move": list(MOVE_SLUGS),
        "token": [token if token is not None else link_token],
        "object_id": [str(admin_objects.get(model, commitment.pk))],
        "id": [str(commitment.owner_id)],
        "content_type_id": [str(ContentType.objects.get_for_model(Commitment).pk)],
        "app_label": ["commitments"],
        "url": ["commitments/nothing-here/"],
        "rest": ["no-such-call/"],
    }


def _pk_for(route: Route, team_a: TeamA) -> int:
    """The object a route's <pk> names: team A's customer, team, or (by default) commitment."""
    if route.name.startswith("commitments:customer"):
        return team_a.customer.pk
    if route.pattern.startswith("teams/"):
        return team_a.commitment.team_id
    return team_a.commitment.pk
