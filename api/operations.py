"""One decorator declares an endpoint: its route, scope, request and response models.

The same declaration drives the request handling (key and scope check, rate
limit, validation, audit) and the OpenAPI document, so they cannot drift.
Views receive validated models and return plain data; the logic is in
`api.services`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError

from api.cds_jwt import looks_like_jwt, verify_cds_jwt
from api.models import ErrorResponse, Health
from cdss.errors import AuthError, ForbiddenError, InputError

JSON = "application/json"
MULTIPART = "multipart/form-data"
MAX_JSON_DEPTH = 64
"""Deeper than any request cdss reads (a FHIR Bundle nests about 10 levels); deeper is refused before it is walked."""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    rule: str
    summary: str
    description: str
    tag: str
    response: type[BaseModel]
    scope: str | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: type[BaseModel] = ErrorResponse
    """The model error answers take: our JSON error, or a FHIR OperationOutcome on the FHIR endpoints."""
    statuses: tuple[str, ...] = ()
    """Error statuses this operation answers besides the common ones (412 for CDS Hooks)."""
    jwt: bool = False
    """Whether a CDS Hooks client's JWT is accepted in place of an API key."""
    uploads: bool = False
    """Whether the body may carry images: a multipart upload is accepted, and bodies up to CDSS_MAX_IMAGE_BYTES."""

    @property
    def path(self) -> str:
        """The rule in OpenAPI form: `<curie>` becomes `{curie}`."""
        return self.rule.replace("<", "{").replace(">", "}")

    @property
    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


class ValidationFailed(InputError):
    """A request that does not match its model; `details` names each bad field, without echoing values."""

    def __init__(self, where: str, error: ValidationError) -> None:
        self.details = [
            {"location": [where, *map(str, e["loc"])], "message": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        fields = ", ".join(".".join(map(str, d["location"][1:])) or where for d in self.details[:5])
        super().__init__(f"invalid {where}: {fields}")


def _validated(model: type[BaseModel], data: Any, where: str, *, strict: bool = False) -> BaseModel:
    """`strict` for JSON, where a number must be sent as a number ("5" and true are not 5); query strings and
    form fields are text by nature and are read laxly."""
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as error:
        raise ValidationFailed(where, error) from None


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_json(raw: bytes) -> Any:
    """A JSON body (RFC 8259: UTF-8), or an `InputError` that says what is wrong without quoting it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"the body is not valid JSON: it is not UTF-8 (byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"the body is not valid JSON: {error.msg} at position {error.pos}") from None
    except RecursionError:
        raise InputError(f"the body is not valid JSON here: it nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        raise InputError("the body is not valid JSON here: a number in it has too many digits") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise InputError(f"the body nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects")
    return data


def _form_data() -> dict[str, str]:
    """A multipart upload as the JSON body it stands for: its fields, and each file base64-encoded under its field
    name, so one model validates both."""
    data = dict(request.form.items())
    for name, upload in request.files.items():
        data[name] = base64.b64encode(upload.read()).decode("ascii")
    g.body = json.dumps(data, sort_keys=True).encode()
    return data


def _body(model: type[BaseModel], *, uploads: bool = False) -> BaseModel:
    if uploads and request.mimetype == MULTIPART:
        return _validated(model, _form_data(), "body")
    from werkzeug.exceptions import UnsupportedMediaType

    if not request.is_json:
        raise UnsupportedMediaType(f"send the body as {JSON}")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(f"JSON bodies are UTF-8 (RFC 8259); the request says charset={charset[:20]}")
    raw = request.get_data(cache=True)
    g.body = raw
    return _validated(model, parse_json(raw), "body", strict=True)


def _authorise(scope: str, *, jwt: bool) -> None:
    services = current_app.extensions["cdss"]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
    if not token:
        raise AuthError("an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")
    if jwt and looks_like_jwt(token):
        settings = services.settings
        issuer = verify_cds_jwt(
            token, secret=settings.cds_hooks_jwt_secret, audience=request.base_url, issuers=settings.cds_hooks_issuers
        )
        g.key_id = f"jwt:{issuer}"
        g.key_scopes = ()
        g.rate_remaining = services.limiter.take(g.key_id)
        return
    key = services.keys.verify(token)
    g.key_id = key.id
    g.key_scopes = key.scopes
    if not key.allows(scope):
        raise ForbiddenError(f"the key {key.id!r} lacks the {scope!r} scope this endpoint needs")
    g.rate_remaining = services.limiter.take(key.id)


def operation(
    blueprint: Blueprint,
    rule: str,
    *,
    method: str = "GET",
    summary: str,
    response: type[BaseModel] = Health,
    scope: str | None = "read",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    tag: str | None = None,
    errors: type[BaseModel] = ErrorResponse,
    statuses: tuple[str, ...] = (),
    jwt: bool = False,
    uploads: bool = False,
) -> Callable:
    def register(view: Callable) -> Callable:
        spec = Operation(
            method,
            rule,
            summary,
            (view.__doc__ or summary).strip(),
            tag or blueprint.name,
            response,
            scope,
            body,
            query,
            errors,
            statuses,
            jwt,
            uploads,
        )

        def handle(**path: str) -> Response:
            if scope is not None:
                _authorise(scope, jwt=jwt)
            arguments: dict[str, Any] = dict(path)
            if uploads:
                request.max_content_length = current_app.extensions["cdss"].settings.max_image_bytes
            if body is not None:
                arguments["body"] = _body(body, uploads=uploads)
            if query is not None:
                arguments["query"] = _validated(query, request.args.to_dict(), "query")
            result = view(current_app.extensions["cdss"], **arguments)
            result, status = result if isinstance(result, tuple) else (result, 200)
            g.result = result
            return current_app.response_class(json.dumps(result, ensure_ascii=False), status=status, mimetype=JSON)

        handle.operation = spec  # type: ignore[attr-defined]
        blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return view

    return register
