"""The reporting export configuration (``views.yaml``) as validated pydantic models.

The YAML holds our complexity limits, request defaults and the per-view column mapping; keeping them
as data means a new view or column is a configuration change, reviewed as such, not a code change.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from genesys_pipelines.models.exports import VIEW_TYPES

DEFAULT_CONFIG_PATH = Path(__file__).with_name("views.yaml")

ColumnType = Literal["string", "int", "float", "percent", "fraction", "duration", "timestamp", "bool"]

_HEADER_JUNK = re.compile(r"[^0-9a-z%]+")


def normalize_header(header: str) -> str:
    """Compare headers case-, space- and punctuation-insensitively (a BOM or NBSP never matters)."""
    return _HEADER_JUNK.sub("", header.replace("\ufeff", "").casefold())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExportLimits(_Strict):
    """Our own guards (cost, blast radius); the API's limits come from the exports metadata."""

    max_exports_per_run: int = Field(10, ge=1)
    max_interval_days: int = Field(31, ge=1)
    max_filter_values_per_key: int = Field(100, ge=1)
    max_filter_values_total: int = Field(500, ge=1)
    max_selected_columns: int = Field(60, ge=1)


class ExportDefaults(_Strict):
    locale: str = "en-US"
    period: str = "P1D"
    max_dropped_share: float = Field(0.05, ge=0.0, le=1.0)
    csv_delimiter: Literal["COMMA", "SEMICOLON"] = "COMMA"
    duration_format: Literal["Seconds", "Milliseconds"] = "Milliseconds"


class ColumnSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source: tuple[str, ...] = Field(min_length=1)
    type: ColumnType = "string"
    unit: Literal["ms", "s"] = "ms"
    required: bool = False

    @property
    def source_keys(self) -> tuple[str, ...]:
        return tuple(normalize_header(s) for s in self.source)


class ViewConfig(_Strict):
    key_columns: tuple[str, ...] = Field(min_length=1)
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ViewConfig:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in {names}")
        missing = [k for k in self.key_columns if k not in names]
        if missing:
            raise ValueError(f"key_columns {missing} are not columns")
        return self

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


class ReportingExportConfig(_Strict):
    limits: ExportLimits = ExportLimits()
    defaults: ExportDefaults = ExportDefaults()
    extra_view_filter_keys: tuple[str, ...] = ()
    views: dict[str, ViewConfig]

    @field_validator("views")
    @classmethod
    def _real_view_types(cls, views: dict[str, ViewConfig]) -> dict[str, ViewConfig]:
        unknown = sorted(set(views) - set(VIEW_TYPES))
        if unknown:
            raise ValueError(f"not viewType values of the API: {unknown}")
        return views

    def view(self, view_type: str) -> ViewConfig:
        try:
            return self.views[view_type]
        except KeyError:
            raise KeyError(f"no column mapping configured for {view_type}; configured: {sorted(self.views)}") from None


def load_config(path: str | Path | None = None) -> ReportingExportConfig:
    """Load and validate a configuration file (default: the packaged ``views.yaml``)."""
    if path is None:
        return _default_config()
    return ReportingExportConfig.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _default_config() -> ReportingExportConfig:
    return ReportingExportConfig.model_validate(yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")))
