"""Airflow trigger-form params generated from a pydantic model: one source of truth for a DAG's params.

A pipeline's params model (``include/genesys_pipelines/<pipeline>/params.py``) declares each param once:
its type, default, bounds and enum through the type hints and ``Field``, its label through ``title``, its
help through ``description``, and form-only keys through ``json_schema_extra`` (``section``, ``format``,
``examples``, ``values_display``, ``description_md``). :func:`dag_params` turns that into the DAG's
``params``, and the same model validates the run in its first task, so the form and the validation can
never disagree on a bound. A field with ``json_schema_extra={"form": False}`` is accepted in the run's
conf (REST, backfills) but not shown in the form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter

#: JSON-schema keys handed to Airflow's Param (the rest of pydantic's schema is not for forms).
FORM_KEYS = frozenset({
    "type", "enum", "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "uniqueItems", "minLength", "maxLength", "description", "title", "format", "examples", "section",
    "values_display", "description_md", "properties", "required", "additionalProperties",
})


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` inlined and pydantic's ``anyOf: [X, null]`` folded into ``X`` with a
    nullable ``type`` (Airflow's form renders an ``anyOf`` as a raw JSON box)."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = _resolve(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {**target, **{k: _resolve(v, defs) for k, v in node.items() if k != "$ref"}}
    out = {k: _resolve(v, defs) for k, v in node.items()}
    options = out.pop("anyOf", None)
    if options is not None:
        concrete = [o for o in options if o.get("type") != "null"]
        nullable = len(concrete) < len(options)
        if len(concrete) != 1:
            raise ValueError(f"a form param needs one non-null type, got {options}")
        merged = {**concrete[0], **out}
        if nullable:
            kind = merged.get("type")
            merged["type"] = ["null", kind] if isinstance(kind, str) else kind
            if "enum" in merged and None not in merged["enum"]:
                merged["enum"] = [None, *merged["enum"]]
        out = merged
    out.pop("default", None)
    return out


def param_schemas(model: type[BaseModel], *, exclude: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """``name -> (default, JSON schema)`` pairs of the form fields of ``model`` (pure; no Airflow import)."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    skipped = set(exclude)
    out: dict[str, dict[str, Any]] = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if name in skipped or extra.get("form") is False:
            continue
        prop = _resolve(schema["properties"][name], defs)
        prop = {k: v for k, v in prop.items() if k in FORM_KEYS}
        default = TypeAdapter(field.annotation).dump_python(field.get_default(call_default_factory=True), mode="json", exclude_none=True)
        out[name] = {"default": default, "schema": prop}
    return out


def dag_params(model: type[BaseModel], *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The DAG's ``params``: one ``airflow.sdk.Param`` per form field of ``model``."""
    from airflow.sdk import Param

    return {name: Param(spec["default"], **spec["schema"]) for name, spec in param_schemas(model, exclude=exclude).items()}
