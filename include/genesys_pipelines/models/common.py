"""Shared building blocks of the API models: base class, references, errors, page-number listings.

JSON names are the official SDK's camelCase (``attribute_map``); Python attributes are snake_case.
Unknown keys are kept (``extra="allow"``) so a new API field never breaks a pipeline; the sandbox uses
:func:`strict_validate` to make sure it never emits a key the model (and so the SDK) does not know.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "AddressableEntityRef",
    "Detail",
    "DivisionedDomainEntityRef",
    "DivisionReference",
    "DomainEntityRef",
    "ErrorBody",
    "GenesysModel",
    "Limit",
    "PageListing",
    "StrictValidationError",
    "ValidationError",  # re-exported: callers catch both failures of strict_validate from here
    "strict_validate",
]


class GenesysModel(BaseModel):
    """Base of every API model: camelCase JSON, snake_case Python, unknown keys kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_api(self) -> dict[str, Any]:
        """The JSON body as the API sends it: camelCase, null and unset fields omitted."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class DomainEntityRef(GenesysModel):
    id: str | None = None
    name: str | None = None
    self_uri: str | None = None


class AddressableEntityRef(GenesysModel):
    id: str | None = None
    self_uri: str | None = None


class DivisionReference(GenesysModel):
    id: str | None = None
    self_uri: str | None = None


class DivisionedDomainEntityRef(GenesysModel):
    id: str | None = None
    name: str | None = None
    self_uri: str | None = None
    division: DivisionReference | None = None


class Limit(GenesysModel):
    key: str | None = None
    namespace: str | None = None
    value: int | None = None


class Detail(GenesysModel):
    error_code: str | None = None
    field_name: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None


class ErrorBody(GenesysModel):
    message: str | None = None
    code: str | None = None
    status: int | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    message_with_params: str | None = None
    message_params: dict[str, str] | None = None
    context_id: str | None = None
    details: list[Detail] | None = None
    errors: list[ErrorBody] | None = None
    limit: Limit | None = None


T = TypeVar("T")


class PageListing(GenesysModel, Generic[T]):
    """The page-number envelope (``*EntityListing``): stop when ``pageNumber >= pageCount``."""

    entities: list[T] | None = None
    page_size: int | None = None
    page_number: int | None = None
    total: int | None = None
    first_uri: str | None = None
    self_uri: str | None = None
    next_uri: str | None = None
    previous_uri: str | None = None
    last_uri: str | None = None
    page_count: int | None = None


class StrictValidationError(ValueError):
    """A payload carries keys its model does not declare (listed as JSON paths in ``paths``)."""

    def __init__(self, model_name: str, paths: list[str]) -> None:
        self.paths = paths
        super().__init__(f"{model_name}: undeclared keys {', '.join(paths)}")


M = TypeVar("M", bound=BaseModel)


def _undeclared(value: Any, path: str) -> list[str]:
    """JSON paths of keys that landed in ``model_extra`` anywhere below ``value``."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found.extend(f"{path}.{key}" if path else key for key in (value.model_extra or {}))
        for name, field in type(value).model_fields.items():
            child = getattr(value, name)
            if child is not None:
                key = field.alias or name
                found.extend(_undeclared(child, f"{path}.{key}" if path else key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(_undeclared(item, f"{path}[{index}]"))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(_undeclared(item, f"{path}.{key}"))
    return found


def strict_validate(model_cls: type[M], payload: Any) -> M:
    """Validate ``payload`` against ``model_cls`` and reject keys the model does not declare, recursively.

    Raises pydantic's ``ValidationError`` for wrong types, missing required fields or unknown enum
    values, and :class:`StrictValidationError` for undeclared keys.
    """
    instance = model_cls.model_validate(payload)
    extra = _undeclared(instance, "")
    if extra:
        raise StrictValidationError(model_cls.__name__, extra)
    return instance
