"""DAG integrity: every pipeline imports cleanly and follows the house rules (design.md, Conventions)."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY = {"pandas", "numpy", "pyarrow", "statsmodels", "matplotlib", "boto3", "botocore", "scipy", "s3fs"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= len(DAG_FILES)


def _dags(dagbag):
    return sorted(dagbag.dags.values(), key=lambda d: d.dag_id)


def test_every_dag_is_documented_owned_tagged_and_retried(dagbag) -> None:
    for dag in _dags(dagbag):
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag.dag_id}: doc_md missing or thin"
        assert "genesys" in dag.tags, f"{dag.dag_id}: tags {dag.tags}"
        assert dag.max_active_runs and dag.max_active_runs <= 16, dag.dag_id
        assert dag.dag_id.startswith("genesys_")
        for task in dag.tasks:
            assert task.owner not in (None, "", "airflow"), f"{dag.dag_id}.{task.task_id}: owner"
            assert task.retries >= 2, f"{dag.dag_id}.{task.task_id}: retries={task.retries}"
            assert task.retry_exponential_backoff > 1, f"{dag.dag_id}.{task.task_id}: no exponential backoff"


def _calls_genesys_api(task) -> bool:
    module = type(task).__module__
    if module.startswith("genesys_cloud.operators"):
        return True
    callable_ = getattr(task, "python_callable", None)
    if callable_ is None:
        return False
    try:
        source = inspect.getsource(callable_)
    except (OSError, TypeError):
        return False
    return "GenesysCloudHook" in source or "genesys_cloud.hooks" in source


def test_api_tasks_use_the_genesys_api_pool(dagbag) -> None:
    api_tasks = 0
    for dag in _dags(dagbag):
        for task in dag.tasks:
            if _calls_genesys_api(task):
                api_tasks += 1
                assert task.pool == "genesys_api", f"{dag.dag_id}.{task.task_id} calls the API outside the pool"
    if dagbag.dags:
        assert api_tasks > 0


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.stem for p in DAG_FILES])
def test_no_heavy_imports_at_top_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in HEAVY, f"{path.name}: top-level import of {name}"
    # And at run time: parsing the file must not pull heavy modules in through a light-looking import.
    # The dag-processor has already initialised the providers' asset-URI handlers (the Amazon one imports
    # boto3) before it parses any file, so that cost is Airflow's, paid once per process, not the DAG's.
    probe = (
        # Airflow puts the DAG bundle's folder on sys.path (DAG files import dags/_common.py).
        f"import json, runpy, sys; sys.path.insert(0, {str(ROOT / 'dags')!r}); import airflow.sdk; "
        "from airflow.providers_manager import ProvidersManager; "
        "ProvidersManager().initialize_providers_asset_uri_resources(); before = set(sys.modules); "
        f"runpy.run_path({str(path)!r}); "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy(),
                         timeout=120, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not (loaded & HEAVY), f"{path.name} loads {sorted(loaded & HEAVY)} at parse time"
