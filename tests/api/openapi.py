"""Check a real API answer against what the OpenAPI schema says it is.

OpenAPI 3.0 schemas are JSON Schema with a few differences (``nullable``); this turns them into
plain JSON Schema and, to catch an undocumented field, forbids properties the schema does not
list. An answer whose status code is not documented for its operation fails as well.
"""

import re
from typing import Any

import jsonschema


class Schema:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = strict(document["components"]["schemas"])
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$"), path) for path in document["paths"]
        ]

    def operation(self, path: str, method: str) -> dict[str, Any]:
        for pattern, template in self._templates:
            if pattern.match(path):
                return self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not in the schema")

    def check(self, response: Any, *, method: str | None = None, path: str | None = None) -> None:
        """Fail unless the response's status is documented and its body fits the documented schema."""
        request = response.wsgi_request
        method = method or request.method
        path = path or request.path
        operation = self.operation(path, method)
        documented = operation["responses"]
        status = str(response.status_code)
        assert status in documented, f"{method} {path} answered {status}, documented: {sorted(documented)}"
        content = documented[status].get("content")
        if content is None:
            assert not response.content, f"{method} {path} {status} has a body the schema does not describe"
            return
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        body_schema = strict(content["application/json"]["schema"])
        validator = jsonschema.Draft7Validator({"allOf": [body_schema], "components": {"schemas": self.components}})
        problems = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.path))
        assert not problems, f"{method} {path} {status} does not match its schema:\n" + "\n".join(
            f"  at {'/'.join(map(str, error.path)) or '(body)'}: {error.message}" for error in problems[:10]
        )


def strict(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: ``nullable`` becomes a null alternative; unlisted properties fail."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: strict(value) for key, value in node.items() if key != "nullable"}
    if "properties" in node and "additionalProperties" not in node:
        converted["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted
