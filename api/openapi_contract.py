"""The OpenAPI document says what the service really does (issue 13, item 14).

FastAPI on pydantic v1 writes `str | None` as a plain string, leaves out the 400 every JSON body
can get, and gives errors no shape. This fills those in once, when the document is built.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "request_id": {"type": ["string", "null"]},
    },
}
_ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
# FastAPI's own 422 body ({"detail": [...]}) is never sent: api/errors.py answers in the Error shape.


def _api_models() -> dict[str, type[BaseModel]]:
    """Our models by the component names FastAPI gives them: the class name, or module__path__Name
    when two classes share a name."""
    found: dict[str, type[BaseModel]] = {}
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("api."):
            found.setdefault(model.__name__, model)
            found[f"{model.__module__}.{model.__name__}".replace(".", "__")] = model
    return found


def _mark_nullable(components: dict[str, Any]) -> None:
    models = _api_models()
    for name, schema in components.items():
        model = models.get(name)
        if model is None:
            continue
        for field_name, field in model.__fields__.items():
            prop = schema.get("properties", {}).get(field.alias or field_name)
            if prop is not None and field.allow_none and "anyOf" not in prop:
                schema["properties"][field.alias or field_name] = {"anyOf": [dict(prop), {"type": "null"}]}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    _mark_nullable(components)
    components["Error"] = ERROR_SCHEMA
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in ("post", "put", "patch"):
                responses.setdefault("400", {"description": "The body is not valid JSON (or not UTF-8)"})
            for status, response in responses.items():
                if status.startswith(("4", "5")):  # every error has one shape (api/errors.py), 422 too
                    response["content"] = _ERROR_REF["content"]
    app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
