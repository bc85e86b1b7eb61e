"""``{% list_row c show_people=... as row %}``: one commitment worded as the lists word it (commitments.list_rows)."""

from typing import Any

from django import template

from commitments.list_rows import ListRow
from commitments.list_rows import list_row as build_row
from commitments.models import Commitment

register = template.Library()


@register.simple_tag(takes_context=True, name="list_row")
def list_row_tag(context: dict[str, Any], commitment: Commitment, show_people: bool = False) -> ListRow:
    return build_row(commitment, user=context["user"], show_people=bool(show_people))
