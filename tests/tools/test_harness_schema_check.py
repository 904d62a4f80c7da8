"""The test harness checks each jsonschema schema once (tests/conftest.py): the answers must not change."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import FormatChecker


def test_a_checked_schema_still_validates_every_instance() -> None:
    schema = {"type": "integer", "minimum": 1, "maximum": 31}
    for _ in range(2):  # the second call skips the schema's own check
        jsonschema.validate(5, schema, format_checker=FormatChecker())
        with pytest.raises(jsonschema.ValidationError, match="less than the minimum"):
            jsonschema.validate(0, schema, format_checker=FormatChecker())
        with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
            jsonschema.validate("5", schema)


def test_a_bad_schema_raises_on_every_call() -> None:
    schema = {"type": "no-such-type"}
    for _ in range(2):
        with pytest.raises(jsonschema.SchemaError):
            jsonschema.validate(1, schema)


def test_formats_are_still_checked() -> None:
    schema = {"type": "string", "format": "date"}
    for _ in range(2):
        jsonschema.validate("2026-06-10", schema, format_checker=FormatChecker())
        with pytest.raises(jsonschema.ValidationError, match="is not a 'date'"):
            jsonschema.validate("2026-13-40", schema, format_checker=FormatChecker())


def test_airflow_params_resolve_as_before() -> None:
    from airflow.sdk import Param
    from airflow.sdk.exceptions import ParamValidationError

    param = Param(3, type="integer", minimum=1)
    assert param.resolve() == 3 and param.resolve(7) == 7
    with pytest.raises(ParamValidationError):
        param.resolve(0)
    assert Param(3, type="integer", minimum=1).resolve(0, suppress_exception=True) is None
