"""DAG params generated from the pipelines' pydantic models: one source of truth for the form."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from genesys_cloud.params import dag_params, form_problems, param_schemas


class Nested(BaseModel):
    name: str = Field(description="a name")
    size: int | None = None


class Form(BaseModel):
    when: str | None = Field(None, title="When", json_schema_extra={"section": "Window", "format": "date"})
    mode: Literal["a", "b"] | None = None
    count: int = Field(3, ge=1, le=9, description="how many")
    items: tuple[Nested, ...] = (Nested(name="x"),)
    hidden: int = Field(1, json_schema_extra={"form": False})


def test_optional_fields_are_one_nullable_type_not_an_anyof() -> None:
    specs = param_schemas(Form)
    assert specs["when"] == {"default": None, "schema": {"type": ["null", "string"], "title": "When",
                                                         "section": "Window", "format": "date"}}
    assert specs["mode"]["schema"]["type"] == ["null", "string"] and specs["mode"]["schema"]["enum"] == [None, "a", "b"]
    assert "anyOf" not in str(specs)


def test_bounds_descriptions_and_nested_models_come_from_the_model() -> None:
    specs = param_schemas(Form)
    assert specs["count"]["schema"] | {"title": None} == {"type": "integer", "minimum": 1, "maximum": 9,
                                                        "description": "how many", "title": None}
    items = specs["items"]
    assert items["default"] == [{"name": "x"}]  # JSON, None fields left out
    assert items["schema"]["items"]["properties"]["size"]["type"] == ["null", "integer"]
    assert "hidden" not in specs  # conf only


def test_dag_params_validate_like_the_model(airflow_db: Any) -> None:
    from airflow.sdk.definitions.param import ParamsDict

    params = ParamsDict(dag_params(Form))
    assert params.validate() == {"when": None, "mode": None, "count": 3, "items": [{"name": "x"}]}
    with pytest.raises(Exception, match="greater than the maximum of 9"):
        params["count"] = 10


class Choices(BaseModel):
    window: str | None = Field(None, title="Day", description="A day in `timezone`, see [docs](https://x.y/z).",
                               json_schema_extra={"section": "Window", "format": "date"})
    kinds: tuple[Literal["a", "b"], ...] = Field(("a",), title="Kinds", json_schema_extra={"section": "S"})
    pick: Literal["a", "b"] | None = Field(None, title="Pick", json_schema_extra={"section": "S"})
    apply: bool = Field(False, title="Apply", json_schema_extra={"section": "Run"})


def test_form_extras_make_each_param_a_widget_a_person_can_fill() -> None:
    specs = param_schemas(Choices)
    assert list(specs)[0] == "apply"  # the write choice first, whatever the model's order
    window = specs["window"]["schema"]
    assert window["description_md"] == "A day in `timezone`, see [docs](https://x.y/z)."
    assert window["description"] == "A day in timezone, see docs."
    assert specs["kinds"]["schema"]["examples"] == ["a", "b"]  # multi-select, not a textarea
    assert specs["pick"]["schema"]["values_display"] == {"null": "(default)"}  # never the text "null"
    assert form_problems({n: s["schema"] for n, s in specs.items()}) == []


def test_form_problems_name_what_a_form_lacks() -> None:
    problems = form_problems({
        "start": {"type": ["null", "string"]},
        "x": {"type": ["null", "string", "integer"], "title": "X", "section": "S", "description": "use `y`"},
        "y": {"type": "array", "items": {"type": "string", "enum": ["a"]}, "title": "Y", "section": "S"},
        "z": {"type": ["null", "string"], "enum": [None, "a"], "title": "Z", "section": "S"},
    })
    assert problems == [
        "start: no title", "start: no section",
        "start: a window bound without a date picker (format date / date-time)",
        "x: not exactly one non-null type: ['null', 'string', 'integer']",
        "x: markup in a plain description (use description_md)",
        "y: an enum list without examples on the array (renders as a textarea)",
        "z: a nullable select without a label for null",
    ]
