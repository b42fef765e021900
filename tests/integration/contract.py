"""Every answer the integration tests receive, checked against openapi.yaml.

harness.Client (and the event stream's and the raw connections' helpers) hand
each response to check_response(): its status must be one the operation
documents (an undocumented status fails the test), its Content-Type one of
that response's media types, its body valid against the schema (JSON Schema
2020-12, validated by python3-jsonschema), and every header the response
names valid against its schema when present (or missing when required).

Routing follows inkand: the global server's /v1 prefix, or a path item's own
servers (the console, at the root). After the gate, a path openapi.yaml does
not have is NOT_FOUND (404) and a method a path item does not have is
METHOD_NOT_ALLOWED (405, with Allow); the gate's own refusals (400, 401, 403,
413, 415) can precede either. All of these are problem+json bodies and are
validated against Problem, their `status` field against the HTTP status.

$refs are resolved by jsonschema itself: each schema is validated as part of a
root document that carries openapi.yaml's `components`, so `#/components/...`
pointers resolve as they do in the file.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# What the gate can answer before routing, whatever the path and method.
GATE_STATUSES = {400, 401, 403, 413, 415, 500}
PROBLEM_JSON = "application/problem+json"


class ContractViolation(AssertionError):
    pass


@lru_cache(maxsize=1)
def _document() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def _prefix(item: dict, document: dict) -> str:
    servers = item.get("servers") or document.get("servers") or [{"url": "/"}]
    return urlsplit(servers[0]["url"].replace("{host}", "h").replace("{port}", "1")).path.rstrip("/")


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern, str, dict]]:
    document = _document()
    routes = []
    for template, item in document["paths"].items():
        pattern = re.escape(_prefix(item, document) + template)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        routes.append((re.compile("^" + pattern + "$"), template, item))
    # Literal segments win over parameters, as in inkand's router.
    routes.sort(key=lambda r: r[1].count("{"))
    return routes


def _resolve(node: dict) -> dict:
    """A response object, following `$ref`s to components."""
    document = _document()
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@lru_cache(maxsize=None)
def _validator(schema_json: str):
    root = {"$schema": DIALECT, "components": _document()["components"], "allOf": [json.loads(schema_json)]}
    cls = jsonschema.validators.validator_for(root)
    return cls(root)


def _validate(schema: dict, value, where: str) -> None:
    errors = sorted(_validator(json.dumps(schema, sort_keys=True)).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5])
        raise ContractViolation(f"{where}: does not match openapi.yaml: {details}")


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _media_type(headers) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _check_problem(status: int, headers, body: bytes, where: str) -> None:
    if _media_type(headers) != PROBLEM_JSON:
        raise ContractViolation(f"{where}: a {status} must be {PROBLEM_JSON}, not {headers.get('Content-Type')!r}")
    problem = json.loads(body)
    _validate(PROBLEM_SCHEMA, problem, where)
    if problem["status"] != status:
        raise ContractViolation(f"{where}: problem status {problem['status']} on an HTTP {status}")


def _check_headers(response: dict, headers, where: str) -> None:
    for name, spec in (response.get("headers") or {}).items():
        spec = _resolve(spec)
        value = headers.get(name)
        if value is None:
            if spec.get("required"):
                raise ContractViolation(f"{where}: header {name} is required")
            continue
        schema = spec.get("schema", {})
        if schema.get("type") == "integer":
            if not re.fullmatch(r"-?[0-9]+", value):
                raise ContractViolation(f"{where}: header {name}: {value!r} is not an integer")
            value = int(value)
        _validate(schema, value, f"{where}: header {name}")


def check_response(method: str, target: str, status: int, headers, body: bytes | None, *, streaming=False) -> None:
    """Raises ContractViolation when the answer to `method target` is not one openapi.yaml documents.
    `body` is None when it was not read (a stream that stays open)."""
    path = urlsplit(target).path
    where = f"{method} {path} -> {status}"
    route = next(((template, item) for pattern, template, item in _routes() if pattern.match(path)), None)
    operation = route[1].get(method.lower()) if route else None
    if operation is None:
        # No operation: what the gate refuses, or the router's 404/405.
        expected = GATE_STATUSES | ({405} if route else {404})
        if status not in expected:
            raise ContractViolation(f"{where}: not an operation of openapi.yaml, and not a status the gate or router answers")
        if body is not None:
            _check_problem(status, headers, body, where)
        if status == 405 and not headers.get("Allow"):
            raise ContractViolation(f"{where}: METHOD_NOT_ALLOWED without Allow")
        return

    where = f"{method} {route[0]} ({operation.get('operationId')}) -> {status}"
    responses = operation.get("responses", {})
    spec = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if spec is None:
        raise ContractViolation(f"{where}: status {status} is not documented (documented: {', '.join(responses)})")
    spec = _resolve(spec)
    _check_headers(spec, headers, where)
    content = spec.get("content")
    if not content:
        if body:
            raise ContractViolation(f"{where}: documented without a body, but {len(body)} bytes came")
        return
    media = _media_type(headers)
    if media not in content:
        raise ContractViolation(f"{where}: Content-Type {headers.get('Content-Type')!r} is not one of {', '.join(content)}")
    if body is None or streaming or not (media.endswith("json")):
        return
    try:
        value = json.loads(body)
    except ValueError as e:
        raise ContractViolation(f"{where}: the body is not JSON: {e}") from None
    schema = content[media].get("schema")
    if schema is not None:
        _validate(schema, value, where)
    if media == PROBLEM_JSON and value.get("status") != status:
        raise ContractViolation(f"{where}: problem status {value.get('status')} on an HTTP {status}")
