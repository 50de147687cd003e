"""A Flask test client that checks every answer against the app's own OpenAPI document.

The document is generated from the same pydantic models the views declare, so a view that returns a
field the model lacks, or a status the document does not list, fails the test that sent the request.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from api.openapi import openapi_document

JSON = "application/json"


def documented_response(document: dict, path: str, method: str, status: int) -> dict | None:
    """The OpenAPI response object for (path, method, status); None for a route the document does not list."""
    operation = document["paths"].get(path, {}).get(method.lower())
    if operation is None:
        return None
    responses = operation["responses"]
    if str(status) not in responses:
        raise AssertionError(f"{method} {path} answered {status}, which its OpenAPI operation does not list")
    return responses[str(status)]


def check_answer(document: dict, response_spec: dict, answer: Any, where: str) -> None:
    """Raise AssertionError naming the first field where `answer` breaks the documented schema."""
    content = response_spec.get("content", {})
    kind = next((k for k in content if k.endswith("json")), None)
    if kind is None:
        return
    schema = {**content[kind]["schema"], "components": document["components"]}
    error = next(iter(Draft202012Validator(schema).iter_errors(answer)), None)
    if error is not None:
        at = "/".join(map(str, error.absolute_path)) or "(the body)"
        raise AssertionError(f"{where}: the answer breaks its OpenAPI schema at {at}: {error.message[:300]}")


class OpenApiCheckedClient(FlaskClient):
    """Every response this client receives is checked against the OpenAPI document before the test sees it."""

    def open(self, *args: Any, **kwargs: Any):
        response = super().open(*args, **kwargs)
        request = response.request
        adapter = self.application.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(request.path, method=request.method, return_rule=True)
            path = rule.rule.replace("<", "{").replace(">", "}")
        except HTTPException:
            path = None
        document = openapi_document(self.application)
        where = f"{request.method} {request.path} -> {response.status_code}"
        if path is None:
            error_schema = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            check_answer(document, error_schema, response.get_json(silent=True), where)
            return response
        spec = documented_response(document, path, request.method, response.status_code)
        if spec is not None:
            if any(k.endswith("json") for k in spec.get("content", {})) and not response.is_json:
                raise AssertionError(f"{where}: documented as JSON, answered {response.mimetype}")
            check_answer(document, spec, response.get_json(silent=True), where)
        return response
