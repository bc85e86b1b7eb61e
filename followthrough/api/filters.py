"""Filtering shared by every list of the API: unknown parameters refused, ids checked before the database."""

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from followthrough.api.fields import MAX_ID


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing a query parameter it does not know.

    A misspelt filter (``?stauts=open``) would otherwise be ignored and answer every commitment.
    """

    ALWAYS_ALLOWED = frozenset({"page", "page_size", "format"})

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(self.ALWAYS_ALLOWED)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        errors: dict[str, list[str]] = {}
        for name in sorted(request.query_params):
            if name not in known:
                errors[name] = [f"Not a parameter of this call; use: {', '.join(sorted(known))}."]
            elif filterset_class is not None and name in filterset_class.base_filters:
                # An empty value means "match all" only for words; an empty id or status is a mistake.
                is_text = isinstance(filterset_class.base_filters[name], django_filters.CharFilter)
                if not is_text and "" in request.query_params.getlist(name):
                    errors[name] = ["Give a value, or leave the parameter out."]
        if errors:
            raise ValidationError(errors)
        if not request.query_params and not _requires_a_filter(filterset_class):
            # Nothing to filter by: a filter set would only be built (every filter deep-copied) to
            # change nothing. The plain list is the call integrators make most.
            return queryset
        return super().filter_queryset(request, queryset, view)


def _requires_a_filter(filterset_class: Any) -> bool:
    filters = filterset_class.base_filters.values() if filterset_class is not None else ()
    return any(filter_.extra.get("required") for filter_ in filters)


class IdFilter(django_filters.NumberFilter):
    """An id: a whole number PostgreSQL can hold (anything else is a 400, not a database error).

    Name the field as ``owner__id`` (a join Django trims), so the schema shows an integer.
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
