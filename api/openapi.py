"""The OpenAPI 3.1 document and the docs page, built from the declared operations and their models."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.models import ErrorResponse, Readiness
from api.operations import JSON, MULTIPART, Operation
from cdss import __version__

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "Bad request",
    "401": "No valid API key",
    "403": "The key lacks the scope",
    "404": "Not found",
    "405": "Method not allowed",
    "413": "Request body too large",
    "415": "Body is not JSON",
    "422": "The input does not validate; details name each field",
    "429": "Rate limit exceeded (see Retry-After)",
    "412": "Precondition failed: the prefetch data the service needs is missing (CDS Hooks)",
    "500": "Internal error (a request id, never a traceback)",
    "503": "Not ready: the graph or a model is still loading or unavailable",
}
PUBLIC_ERRORS = ("404", "405", "500", "503")
OPTIONAL_ERRORS = ("412",)
"""Statuses only the operations that declare them answer."""
FHIR_JSON = "application/fhir+json"


def operations(app: Flask) -> list[Operation]:
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions.get(rule.endpoint), "operation", None)
        if spec is not None:
            # The blueprint's URL prefix is only known once registered.
            found.append(replace(spec, rule=rule.rule))
    return sorted(found, key=lambda o: (o.path, o.method))


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.get("description", ""),
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
        }
        for name, prop in schema["properties"].items()
    ]


def _operation(spec: Operation, schemas: dict[str, Any]) -> dict:
    out: dict[str, Any] = {
        "operationId": spec.method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", spec.path).strip("_"),
        "summary": spec.summary,
        "description": spec.description,
        "tags": [spec.tag],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in spec.path_parameters
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {JSON: {"schema": {"$ref": REF.format(model=spec.response.__name__)}}},
            }
        },
    }
    if spec.query is not None:
        out["parameters"] += _query_parameters(spec.query, schemas)
    fhir = spec.errors is not ErrorResponse
    if spec.body is not None:
        body = {"schema": {"$ref": REF.format(model=spec.body.__name__)}}
        content = {JSON: body, **({FHIR_JSON: body} if fhir else {}), **({MULTIPART: body} if spec.uploads else {})}
        out["requestBody"] = {"required": True, "content": content}
    codes = ERRORS if spec.scope is not None else {c: ERRORS[c] for c in PUBLIC_ERRORS}
    for code, description in codes.items():
        if (code in ("413", "415") and spec.body is None) or (code in OPTIONAL_ERRORS and code not in spec.statuses):
            continue
        # /readyz answers 503 with its own state rather than an error.
        model = Readiness if spec.response is Readiness and code == "503" else spec.errors
        out["responses"][code] = {
            "description": description,
            "content": {FHIR_JSON if fhir else JSON: {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    if spec.scope is None:
        out["security"] = []
    else:
        out["x-required-scope"] = spec.scope
    return out


def openapi_document(app: Flask) -> dict:
    specs = operations(app)
    models = {ErrorResponse} | {m for s in specs for m in (s.response, s.body, s.errors) if m is not None}
    _, definitions = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    schemas = definitions.get("$defs", {})
    paths: dict[str, dict] = {}
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cdss: knowledge-graph clinical decision support",
            "version": __version__,
            "description": (
                "Ranked differential diagnoses, treatment options and related diseases, each with its evidence. "
                "Suggestions are decision support for a clinician, never a diagnosis."
            ),
            "license": {"name": "see the project's licence; each edge carries its source's licence"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"ApiKey": []}, {"Bearer": []}],
    }


def _type_name(prop: dict) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type_name(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list of {_type_name(prop.get('items', {}))}"
    return str(prop.get("type", "any"))


def docs_page(document: dict) -> str:
    """A self-contained HTML page (no scripts, nothing fetched) listing every operation and its models."""
    rows = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            params = ", ".join(p["name"] for p in spec.get("parameters", [])) or "none"
            body = spec.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema", {}).get("$ref", "")
            scope = spec.get("x-required-scope", "public")
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(spec['summary'])}</td><td>{html.escape(params)}</td>"
                f"<td>{html.escape(body.rsplit('/', 1)[-1])}</td><td>{scope}</td></tr>"
            )
    schemas = "".join(
        f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3><ul>"
        + "".join(
            f"<li><code>{html.escape(field)}</code>: {html.escape(_type_name(prop))}"
            f" {html.escape(prop.get('description', ''))}</li>"
            for field, prop in schema.get("properties", {}).items()
        )
        + "</ul>"
        for name, schema in sorted(document["components"]["schemas"].items())
    )
    info = document["info"]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(info['title'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}td,th{padding:.3em .8em;text-align:left}"
        "tr:nth-child(even){background:#f4f4f4}</style></head><body>"
        f"<h1>{html.escape(info['title'])} <small>{html.escape(info['version'])}</small></h1>"
        f"<p>{html.escape(info['description'])}</p>"
        "<p>The machine-readable document is at <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1). "
        "Send an API key as <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key</code>.</p>"
        "<table><tr><th>method</th><th>path</th><th>what it does</th><th>parameters</th><th>body</th>"
        f"<th>scope</th></tr>{''.join(rows)}</table><h2>Models</h2>{schemas}</body></html>"
    )
