"""The OpenAPI document, built from the handlers' ``ops`` so it cannot drift from them."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

import workbench
from workbench.models import ErrorBody
from workbench_server.handlers.base import Op

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def openapi_document(routes: list[tuple[str, type]], *, prefix: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error = {"description": "Error", "content": {"application/json": {"schema": ref(ErrorBody)}}}
    paths: dict[str, Any] = {}
    for pattern, handler in routes:
        ops: dict[str, Op] = getattr(handler, "ops", {})
        if not ops:
            continue
        path_params = _GROUP.findall(pattern)
        path = prefix + _GROUP.sub(lambda m: "{" + m.group(1) + "}", pattern)
        item: dict[str, Any] = {}
        for verb, op in ops.items():
            params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
            params += [{"name": n, "in": "query", "required": req, "description": d, "schema": {"type": "string"}}
                       for n, d, req in op.query]
            entry: dict[str, Any] = {"summary": op.summary, "operationId": f"{handler.__name__}.{verb}",
                                     "tags": list(op.tags), "parameters": params}
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(op.body)}}}
            elif op.raw_body:
                entry["requestBody"] = {"required": True, "content": {op.raw_body: {"schema": {"type": "string",
                                                                                             "format": "binary"}}}}
            if op.response is not None:
                ok = {"description": "OK", "content": {"application/json": {"schema": ref(op.response)}}}
            elif op.raw_response:
                ok = {"description": "OK", "content": {op.raw_response: {}}}
            else:
                ok = {"description": "No content"}
            entry["responses"] = {str(op.status): ok, "400": error, "401": error, "404": error, "409": error}
            item[verb] = entry
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Workbench API", "version": workbench.__version__},
        "paths": paths,
        "components": {"schemas": schemas},
    }
