"""The shape the provider redesign promised: DAG files that read as tables of contents, operator modules
that hold operators only, a provider that registers what it ships, docs read from absolute paths."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("genesys_*.py"))
OPERATOR_MODULES = sorted(p for p in (ROOT / "plugins" / "genesys_cloud" / "operators").glob("*.py")
                          if p.name != "__init__.py")


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.stem for p in DAG_FILES])
def test_dag_files_are_tables_of_contents(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 120, f"{path.name} is over 120 lines"
    assert (path.with_suffix(".md")).is_file(), f"{path.name} has no .md doc"


@pytest.mark.parametrize("path", OPERATOR_MODULES, ids=[p.stem for p in OPERATOR_MODULES])
def test_operator_modules_define_operators_only(path: Path) -> None:
    from airflow.sdk import BaseOperator

    module = importlib.import_module(f"genesys_cloud.operators.{path.stem}")
    classes = [obj for _, obj in inspect.getmembers(module, inspect.isclass) if obj.__module__ == module.__name__]
    helpers = {"S3Destination"}  # the *ToS3 operators' destination mixin
    assert classes and all(issubclass(c, BaseOperator) or c.__name__ in helpers for c in classes), classes
    functions = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
    assert functions == [] or path.stem in ("base", "aggregates"), functions


def test_provider_info_lists_everything_it_ships() -> None:
    from genesys_cloud import get_provider_info

    info = get_provider_info()
    modules = {m for entry in info["operators"] for m in entry["python-modules"]}
    assert modules == {f"genesys_cloud.operators.{p.stem}" for p in OPERATOR_MODULES if p.stem != "base"}
    assert {m for e in info["triggers"] for m in e["python-modules"]} == {
        "genesys_cloud.triggers.analytics_job", "genesys_cloud.triggers.reporting_export"}
    assert info["hooks"][0]["python-modules"] == ["genesys_cloud.hooks.genesys_cloud"]
    assert info["connection-types"][0]["connection-type"] == "genesys_cloud"


def test_doc_md_is_the_documents_text_not_its_path(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    for path in DAG_FILES:
        dag = bag.get_dag(path.stem)
        assert dag.doc_md == path.with_suffix(".md").read_text(), path.stem
