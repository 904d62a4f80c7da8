"""Test harness: an isolated AIRFLOW_HOME, the sandbox + local S3, and a migrated metadata DB.

Everything Airflow reads from the environment is set HERE, at import time, before any test module
imports airflow (Airflow reads parts of its configuration once, at import).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_TMP = Path(tempfile.mkdtemp(prefix="genesys-tests-"))

sys.path.append(str(ROOT / "tools"))  # tools/ is not a package: bootstrap, native_stack
# Airflow puts the DAG bundle's folder on sys.path for the DAG processor and the workers (DAG files import
# dags/_common.py); tests that load DAG files themselves need the same.
sys.path.append(str(ROOT / "dags"))
from bootstrap import embedded_airflow_env  # noqa: E402  (yaml only, no airflow)

from genesys_sandbox.devstack import (  # noqa: E402
    DEFAULT_BUCKET,
    DEMO_CLOCK,
    DEMO_DATE,
    DEMO_SEED,
    Stack,
    free_port,
    start_stack,
)

_SANDBOX_PORT, _S3_PORT = free_port(), free_port()
_PLANNED = Stack(_TMP / "stack", f"http://127.0.0.1:{_SANDBOX_PORT}", f"http://127.0.0.1:{_S3_PORT}", DEFAULT_BUCKET)

TEST_ENV: dict[str, str] = {
    **embedded_airflow_env(_TMP / "airflow", _PLANNED.settings_env(), DEFAULT_BUCKET, ROOT),
    # Short waits so fault tests do not sleep for minutes (production defaults are in genesys_cloud.config).
    "GENESYS_TASK_RETRY_DELAY": "1",
    "GENESYS_RETRY_BACKOFF_BASE": "0.05",
    "GENESYS_RETRY_MAX_SECONDS": "30",
    "GENESYS_POLL_INTERVAL": "0.5",
    "GENESYS_HTTP_TIMEOUT": "10",
    # dag.test() cannot answer a human approval (it waits forever): approval logic is tested directly.
    "GENESYS_WRITE_APPROVAL": "off",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
}
os.environ.update(TEST_ENV)
(_TMP / "airflow").mkdir(parents=True, exist_ok=True)


# -- jsonschema's schema check, once per schema ------------------------------------------------------
# Airflow's Param.resolve() calls jsonschema.validate(), which first checks the *schema* against its
# meta-schema, every call: serialising the DAGs (dag.test() re-syncs the whole dags/ bundle on every call)
# resolves every param of every task, ~11,000 checks of the same few schemas for six small runs, 6-8 s of
# CPU per dag.test() on a busy 2-core machine. Same answers here: a schema that passed its check once is
# not checked again (a schema that fails is checked, and raises, every time); the instance is validated on
# every call exactly as before. Only in this process (dag.test() runs); the stacks' own processes are
# untouched.
def _validate_checking_each_schema_once() -> None:
    import json

    import jsonschema
    from jsonschema import exceptions, validators

    original = validators.validate
    checked: set[tuple[type, str]] = set()

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if cls is None:
            cls = validators.validator_for(schema)
        try:
            key = (cls, json.dumps(schema, sort_keys=True))
        except (TypeError, ValueError):
            key = None
        if key is None or key not in checked:
            original(instance, schema, cls, *args, **kwargs)  # checks the schema, then the instance
            if key is not None:
                checked.add(key)
            return
        error = exceptions.best_match(cls(schema, *args, **kwargs).iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validators.validate = validate


_validate_checking_each_schema_once()


# -- dag.test() runs start now, as the scheduler's do ------------------------------------------------------
# dag.test() creates its run with start_date = the logical date (June 2026 for the sandbox clock), where the
# scheduler stamps the moment the run starts. Code that asks "what happened since this run started" (pacing's
# restatement check at the write: genesys_cloud.upstream.restated_during_run) would then see every asset
# event an earlier test module left in the session's DB as newer than the run. Stamp the real start instead.
def _dag_test_runs_start_now() -> None:
    from datetime import UTC, datetime

    import airflow.models.dagrun as dagrun_module

    original = dagrun_module.get_or_create_dagrun

    def get_or_create_dagrun(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - airflow's own signature
        kwargs["start_date"] = datetime.now(UTC)
        return original(*args, **kwargs)

    dagrun_module.get_or_create_dagrun = get_or_create_dagrun


_dag_test_runs_start_now()


class DevStack:
    """The running sandbox + local S3, with helpers the tests use."""

    def __init__(self, stack: Stack) -> None:
        import boto3
        import httpx

        self.stack = stack
        self.sandbox_url = stack.sandbox_url
        self.s3_endpoint = stack.s3_endpoint
        self.bucket = stack.bucket
        self.demo_date = DEMO_DATE
        self.clock = DEMO_CLOCK
        self.seed = DEMO_SEED
        self.admin = httpx.Client(base_url=stack.sandbox_url, timeout=30.0)
        self.s3 = boto3.client(
            "s3", endpoint_url=stack.s3_endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )

    @property
    def fixtures(self) -> dict[str, Any]:
        from genesys_sandbox.org import FIXTURES

        return FIXTURES

    def reset(self, seed: int | None = None, clock: str | None = None) -> None:
        """Same seed → same org, data, counters, write log and inbox; faults cleared."""
        body = {"seed": self.seed if seed is None else seed, "clock": clock or self.clock}
        self.admin.post("/_sandbox/reset", json=body).raise_for_status()

    def set_faults(self, spec: str) -> None:
        self.admin.post("/_sandbox/faults", json={"spec": spec}).raise_for_status()

    def counters(self) -> dict[str, Any]:
        return self.admin.get("/_sandbox/counters").json()

    def writes(self) -> list[dict[str, Any]]:
        return self.admin.get("/_sandbox/writes").json()

    def webhooks(self, name: str = "bi") -> list[dict[str, Any]]:
        return self.admin.get(f"/_sandbox/webhooks/{name}").json()

    def list_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def devstack() -> Iterator[DevStack]:
    """The sandbox (seed 42, clock DEMO_CLOCK) and a local S3, on the ports set in the environment."""
    stack = start_stack(_PLANNED.workdir, sandbox_port=_SANDBOX_PORT, s3_port=_S3_PORT, bucket=DEFAULT_BUCKET)
    try:
        yield DevStack(stack)
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata DB in the test AIRFLOW_HOME, with the pools from the settings file."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL)
    from bootstrap import apply, load_settings

    apply(load_settings())
    return _TMP / "airflow"


@pytest.fixture
def sandbox(devstack: DevStack) -> Iterator[DevStack]:
    """The devstack, reset to its seed before and with faults cleared after the test."""
    devstack.reset()
    try:
        yield devstack
    finally:
        devstack.set_faults("")
