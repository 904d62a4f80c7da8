"""The native distributed stack for the end-to-end tests: started once per module, driven over REST.

Skip rule (issue 10): skip with a clear message only when PostgreSQL or Redis is absent; under
``CI=true`` a machine that has them installed must not skip (the test fails instead), and services that
answer but are broken always fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stack_support import NativeStack, Timings, dag_ids, leftovers, require_services, start_native_stack

_REPORTED: list[str] = []


@pytest.fixture(scope="module")
def timings() -> Iterator[Timings]:
    figures = Timings()
    yield figures
    _REPORTED.append(figures.line())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The measured durations (stack start, each scenario, total), one line per stack."""
    for line in _REPORTED:
        terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, timings: Timings) -> Iterator[NativeStack]:
    """CeleryExecutor Airflow (one Celery worker, concurrency 1) + sandbox + local S3."""
    require_services()
    done = timings.measure("stack_start")
    native = start_native_stack(tmp_path_factory.mktemp("native-stack"), worker_concurrency=1)
    try:
        done()
        yield native
    finally:
        done = timings.measure("stack_stop")
        native.stop()
        done()
    # Teardown contract: no process group, database or broker key left behind.
    assert all(p.poll() is not None for p in native.devstack.procs) and not native.procs
    assert not leftovers(native), leftovers(native)




@pytest.fixture(scope="module")
def pipelines(stack: NativeStack, timings: Timings) -> list[str]:
    """The DAG ids of dags/ (read once, so a file added meanwhile cannot change the set), all parsed."""
    ids = dag_ids()
    done = timings.measure("dags_parsed")
    stack.wait_for_dags(ids, timeout=180)
    done()
    return ids
