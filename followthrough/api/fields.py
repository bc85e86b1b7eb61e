"""Serializer fields every API shares: ids PostgreSQL can hold, durations written as operators write them;
and the base of an input serializer made for every request, whose fields are copied shallowly."""

import copy
from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from followthrough.durations import format_duration, parse_duration

# The largest id PostgreSQL's bigint holds: a bigger one cannot name anything.
MAX_ID = 2**63 - 1


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\s*(\d+\s*[smhdwSMHDW]\s*)+$|^\s*\d+\s*$",
        "description": "A duration such as 90s, 15m, 4h, 2d or 1h30m (a bare number is seconds).",
        "example": "24h",
    }
)
class DurationField(serializers.Field):
    """A duration written as operators write them: ``24h``, ``15m``, ``2d``."""

    default_error_messages = {
        "invalid": "Write a duration such as 90s, 15m, 4h or 2d.",
    }

    def to_internal_value(self, data: Any) -> timedelta:
        if isinstance(data, bool) or not isinstance(data, str | int) or len(str(data)) > 50:
            self.fail("invalid")
        try:
            return parse_duration(str(data))
        except (ValueError, OverflowError):
            self.fail("invalid")
        raise AssertionError  # fail() always raises.

    def to_representation(self, value: timedelta) -> str:
        return format_duration(value)


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class FieldsCopiedShallowly(serializers.Serializer):
    """An input serializer made for every request, whose fields are copied shallowly, not deeply.

    DRF deep-copies each declared field for every serializer it makes (so that binding a field to
    one serializer never touches the class's), down to every choice and a related field's queryset:
    for logging a promise that was two thirds of checking its body. A shallow copy is still a field
    of its own to bind; what it shares with the declared one (choices, validators, messages, a
    queryset cloned on each use) nothing changes while a body is checked. Only a flat field is
    copied shallowly: a nested serializer, a field with a child (a list's, a dict's, ``many=True``'s,
    which binds to its parent) or a default that could be changed in place is deep-copied as DRF
    does; a nested serializer of this class then copies its own fields shallowly too.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: copy.copy(field) if _flat(field) else copy.deepcopy(field)
            for name, field in self._declared_fields.items()
        }


# Defaults nothing can change in place: a shallow copy may share them between requests.
_UNCHANGING = (str, bytes, int, float, bool, type(None), tuple, frozenset)


def _flat(field: serializers.Field) -> bool:
    return (
        not isinstance(field, serializers.BaseSerializer)
        and not hasattr(field, "child")
        and not hasattr(field, "child_relation")
        and (field.default is serializers.empty or isinstance(field.default, _UNCHANGING))
    )
