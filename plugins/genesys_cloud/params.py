"""Airflow trigger-form params generated from a pydantic model: one source of truth for a DAG's params.

A pipeline's params model (``include/genesys_pipelines/<pipeline>/params.py``) declares each param once:
its type, default, bounds and enum through the type hints and ``Field``, its label through ``title``, its
help through ``description``, and form-only keys through ``json_schema_extra`` (``section``, ``format``,
``examples``, ``values_display``, ``description_md``). :func:`dag_params` turns that into the DAG's
``params``, and the same model validates the run in its first task, so the form and the validation can
never disagree on a bound. A field with ``json_schema_extra={"form": False}`` is accepted in the run's
conf (REST, backfills) but not shown in the form.

What the generator adds so every form renders the way docs/forms.md says Airflow 3.3.2 renders it:

- a description with markup (backticks, ``**``, links) becomes ``description_md`` (rendered markdown; a
  plain ``description`` shows the backticks literally), with the plain text kept in ``description``;
- an array of enum values gets ``examples`` on the array (a multi-select; ``items.enum`` alone is a textarea
  that hides the allowed values);
- a nullable enum gets a ``values_display`` label for ``null`` (else the select shows the text ``null``);
- the dry-run / apply choice (:data:`WRITE_CHOICES`) comes first, whatever the model's field order.

:func:`form_problems` lists what a form still lacks (title, section, one non-null type, labels): the DAG
tests hold every DAG's params to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter

#: JSON-schema keys handed to Airflow's Param (the rest of pydantic's schema is not for forms).
FORM_KEYS = frozenset({
    "type", "enum", "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "uniqueItems", "minLength", "maxLength", "description", "title", "format", "examples", "section",
    "values_display", "description_md", "properties", "required", "additionalProperties",
})


#: Params that decide whether a run writes to Genesys: shown first in the form (in this order).
WRITE_CHOICES: tuple[str, ...] = ("dry_run", "apply")
#: The label of ``null`` in a nullable select when the field gives none.
NULL_LABEL = "(default)"
_MARKUP = re.compile(r"`|\*\*|\[[^\]]+\]\([^)]+\)")


def _form_extras(schema: dict[str, Any]) -> dict[str, Any]:
    """The generator's additions to one param's schema (see the module docstring)."""
    out = dict(schema)
    text = out.get("description")
    if text and "description_md" not in out and _MARKUP.search(text):
        out["description_md"] = text
        out["description"] = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text).replace("`", "").replace("**", "")
    items = out.get("items")
    if out.get("type") == "array" and isinstance(items, dict) and items.get("enum") and "examples" not in out:
        out["examples"] = list(items["enum"])
    enum = out.get("enum")
    if enum and None in enum:
        labels = dict(out.get("values_display") or {})
        if "null" not in labels and "None" not in labels:
            labels = {"null": NULL_LABEL, **labels}
        out["values_display"] = labels
    return out


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
        prop = _form_extras({k: v for k, v in prop.items() if k in FORM_KEYS})
        default = TypeAdapter(field.annotation).dump_python(field.get_default(call_default_factory=True), mode="json", exclude_none=True)
        out[name] = {"default": default, "schema": prop}
    first = [name for name in WRITE_CHOICES if name in out]
    return {name: out[name] for name in [*first, *(n for n in out if n not in first)]}


def form_problems(schemas: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What keeps a form (``name -> JSON schema``) from rendering as a person can fill it, one line each:
    a missing title or section, more than one non-null type (a raw JSON box), a window bound without a
    date picker, a nullable select without a label for ``null``, an enum list without its options shown,
    markup in a plain description."""
    problems = []
    for name, schema in schemas.items():
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
        if not schema.get("title"):
            problems.append(f"{name}: no title")
        if not schema.get("section"):
            problems.append(f"{name}: no section")
        if len([k for k in kinds if k != "null"]) != 1:
            problems.append(f"{name}: not exactly one non-null type: {kinds}")
        if name in ("start", "end") and schema.get("format") not in ("date", "date-time"):
            problems.append(f"{name}: a window bound without a date picker (format date / date-time)")
        enum = schema.get("enum") or []
        labels = schema.get("values_display") or {}
        if None in enum and not ({"null", "None"} & set(labels)):
            problems.append(f"{name}: a nullable select without a label for null")
        items = schema.get("items")
        if isinstance(items, dict) and items.get("enum") and not schema.get("examples"):
            problems.append(f"{name}: an enum list without examples on the array (renders as a textarea)")
        if _MARKUP.search(schema.get("description") or "") and not schema.get("description_md"):
            problems.append(f"{name}: markup in a plain description (use description_md)")
    return problems


def dag_params(model: type[BaseModel], *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The DAG's ``params``: one ``airflow.sdk.Param`` per form field of ``model``."""
    from airflow.sdk import Param

    return {name: Param(spec["default"], **spec["schema"]) for name, spec in param_schemas(model, exclude=exclude).items()}
