"""Every list answers ``{"count", "next", "previous", "results"}``, in a stable order."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    page_query_description = "The page to show, from 1; a page past the last answers 404."
    page_size_query_description = "How many results a page holds: 50 by default, at most 200."

    def get_page_size(self, request: Request) -> int:
        # DRF quietly falls back to the default for a bad value; an integrator is better told.
        raw = request.query_params.get(self.page_size_query_param or "")
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [f"Use a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not (raw.isdigit() and int(raw) >= 1) and raw not in self.last_page_strings:
            raise ValidationError({"page": ["Use a whole number from 1."]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        properties = described["properties"]
        properties["count"]["description"] = "How many results there are in all pages together."
        properties["next"]["description"] = "The next page's address; null on the last page."
        properties["previous"]["description"] = "The previous page's address; null on the first page."
        properties["results"]["description"] = "This page's results, in a stable order."
        return described
