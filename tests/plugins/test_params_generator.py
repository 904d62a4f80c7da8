"""DAG params generated from the pipelines' pydantic models: one source of truth for the form."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from genesys_cloud.params import dag_params, param_schemas


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
