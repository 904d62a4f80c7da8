"""Hold a JSON payload against the official SDK's model (PureCloudPlatformClientV2 269.0.0).

Shared models can share mistakes, so the sandbox's answers are also checked against the SDK's own
``swagger_types`` / ``attribute_map``: unknown keys, wrong JSON types and enum values the SDK would
turn into ``"outdated_sdk_version"`` all fail.

    from sdk_check import assert_sdk_compatible
    assert_sdk_compatible(response.json(), "CampaignEntityListing")

Requests are held against the SDK's API operations too: :func:`query_problems` names every query parameter
a request sends that the SDK's operation for that method and path does not take (read from the generated
``*Api`` classes: each operation's ``resource_path``, HTTP method and ``query_params[...]`` keys).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import PureCloudPlatformClientV2.models as sdk_models

OUTDATED = "outdated_sdk_version"
_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\((\w+), (.+)\)$")


@cache
def _model_maps(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(json key → attribute, attribute → swagger type) of SDK model ``name``."""
    cls = getattr(sdk_models, name, None)
    if cls is None:
        raise AssertionError(f"the SDK has no model {name!r}")
    instance = cls()
    return {json_key: attr for attr, json_key in instance.attribute_map.items()}, dict(instance.swagger_types)


def _enum_rejected(model: str, attr: str, value: str) -> bool:
    """Whether the SDK's setter turns ``value`` into ``outdated_sdk_version`` (its enum check)."""
    instance = getattr(sdk_models, model)()
    setattr(instance, attr, value)
    return getattr(instance, attr) == OUTDATED and value != OUTDATED


def _check_value(value: Any, swagger_type: str, path: str, problems: list[str]) -> None:
    if value is None:
        return
    if match := _LIST.match(swagger_type):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a JSON array ({swagger_type}), got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _check_value(item, match.group(1), f"{path}[{index}]", problems)
        return
    if match := _DICT.match(swagger_type):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a JSON object ({swagger_type}), got {type(value).__name__}")
            return
        for key, item in value.items():
            _check_value(item, match.group(2), f"{path}.{key}", problems)
        return
    if swagger_type == "str":
        ok = isinstance(value, str)
    elif swagger_type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif swagger_type == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif swagger_type == "bool":
        ok = isinstance(value, bool)
    elif swagger_type in ("datetime", "date"):
        ok = isinstance(value, str) and _parses_as_datetime(value)
    elif swagger_type == "object":
        ok = True
    else:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a JSON object ({swagger_type}), got {type(value).__name__}")
            return
        problems.extend(sdk_problems(value, swagger_type, path))
        return
    if not ok:
        problems.append(f"{path}: {value!r} is not a JSON {swagger_type}")


def _parses_as_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def sdk_problems(payload: Any, model_name: str, path: str = "$") -> list[str]:
    """Every way ``payload`` (an object, or an array of objects) disagrees with SDK model ``model_name``."""
    if isinstance(payload, list):
        problems: list[str] = []
        for index, item in enumerate(payload):
            problems.extend(sdk_problems(item, model_name, f"{path}[{index}]"))
        return problems
    if not isinstance(payload, dict):
        return [f"{path}: expected a JSON object for {model_name}, got {type(payload).__name__}"]
    keys, types = _model_maps(model_name)
    problems = []
    for key, value in payload.items():
        attr = keys.get(key)
        if attr is None:
            problems.append(f"{path}.{key}: unknown to SDK model {model_name}")
            continue
        swagger_type = types[attr]
        _check_value(value, swagger_type, f"{path}.{key}", problems)
        if swagger_type == "str" and isinstance(value, str) and _enum_rejected(model_name, attr, value):
            problems.append(f"{path}.{key}: {value!r} is not an enum value SDK model {model_name} accepts")
    return problems


def assert_sdk_compatible(payload: Any, sdk_model_name: str) -> None:
    """Fail with every problem listed when ``payload`` does not fit the SDK model."""
    problems = sdk_problems(payload, sdk_model_name)
    assert not problems, f"{sdk_model_name}: " + "; ".join(problems)


# -- query parameters of the SDK's API operations ---------------------------------------------------------
_OPERATION = re.compile(r"\n    def (\w+)\(self")
_RESOURCE = re.compile(r"resource_path = '([^']+)'")
_VERB = re.compile(r"call_api\(resource_path, '([A-Z]+)'")
_QUERY = re.compile(r"query_params\['(\w+)'\]")
_PATH_PARAM = re.compile(r"\{[^}/]*\}")


def _template(path: str) -> str:
    """``/a/{campaignId}/b`` and ``/a/{campaign_id}/b`` both → ``/a/{}/b``."""
    return _PATH_PARAM.sub("{}", path.split("?", 1)[0].rstrip("/"))


@cache
def sdk_operations() -> dict[tuple[str, str], frozenset[str]]:
    """(HTTP method, path template) → the query parameter names (JSON spelling) the SDK's operation takes,
    for every operation of every ``*Api`` class of the installed SDK."""
    operations: dict[tuple[str, str], set[str]] = {}
    spec = importlib.util.find_spec("PureCloudPlatformClientV2")
    if spec is None or spec.origin is None:
        raise AssertionError("PureCloudPlatformClientV2 is not installed")
    for module in sorted((Path(spec.origin).parent / "apis").glob("*_api.py")):
        text = module.read_text(encoding="utf-8")
        starts = [m.start() for m in _OPERATION.finditer(text)] + [len(text)]
        for begin, end in zip(starts, starts[1:], strict=False):
            body = text[begin:end]
            path, verb = _RESOURCE.search(body), _VERB.search(body)
            if path and verb:
                key = (verb.group(1), _template(path.group(1)))
                operations.setdefault(key, set()).update(_QUERY.findall(body))
    if not operations:
        raise AssertionError("no API operation found in the SDK's *Api classes")
    return {key: frozenset(names) for key, names in operations.items()}


def query_problems(method: str, path: str, names: Iterable[str]) -> list[str]:
    """Every query parameter of ``method path`` the SDK's operation does not take (or the operation itself
    when the SDK has none for that method and path)."""
    accepted = sdk_operations().get((method.upper(), _template(path)))
    if accepted is None:
        return [f"{method} {path}: the SDK has no such operation"]
    return [f"{method} {path}: query parameter {name!r} is not one the SDK's operation takes "
            f"(it takes {sorted(accepted) or 'none'})" for name in sorted(set(names)) if name not in accepted]
