"""The Airflow UI as a person uses it, in headless Chromium against the stack `make airflow` starts.

Log in (admin/admin), open a DAG's trigger form, set the window through its date picker (or type it
where the form has a text field), submit, wait for the run to succeed, open the DAG's *Outputs* tab and
one file: the presigned download returns the file's bytes. Never skipped: a missing browser fails with
the install hint. Capped at 10 minutes. Screenshots of every step are kept under the test's tmp dir
(named in the failure message). Forms are rows of ``FORMS``: add a DAG by adding a row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from browser_support import AirflowPage, FormCase, browser_missing, chromium
from ui_support import RunningUI, log_tail, processes_with_home, start_ui

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TODAY = datetime.now(UTC).date().isoformat()

FORMS = [
    FormCase(
        "genesys_conversation_report",
        window=(("start", YESTERDAY), ("end", TODAY)),
        expect_file="report.csv",
    ),
]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUI]:
    missing = browser_missing()
    if missing:
        pytest.fail(missing)  # never a skip: a machine without the browser must not pass silently
    running = start_ui(tmp_path_factory.mktemp("browser") / "home")
    try:
        yield running
    finally:
        running.stop()
    assert processes_with_home(running.home) == []


def _s3_bytes(ui: RunningUI, key: str) -> bytes:
    env = ui.env()
    s3 = boto3.client("s3", endpoint_url=ui.s3_endpoint, region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    return s3.get_object(Bucket=env["GENESYS_BUCKET"], Key=key)["Body"].read()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", FORMS, ids=[c.dag_id for c in FORMS])
def test_trigger_from_the_form_and_open_an_output(ui: RunningUI, case: FormCase, tmp_path: Path) -> None:
    started = time.monotonic()
    shots = tmp_path / "screenshots"
    with chromium() as context:
        web = AirflowPage(context, ui.url, shots)
        try:
            web.login()
            before = {r["dag_run_id"] for r in ui.runs(case.dag_id)}
            dialog = web.open_trigger_form(case.dag_id)
            widgets = {}
            if case.window:
                for name, day in case.window:
                    widgets[name] = web.set_date(dialog, name, day)
            for name, value in case.fields.items():
                web.set_field(dialog, name, value)
            web.submit(dialog, case.dag_id, case.unpause)
            [run_id] = wait_new_run(ui, case.dag_id, before)
            state = ui.wait_run(case.dag_id, run_id, case.run_timeout_s)
            assert state == "success", f"{run_id} ended {state}\n{log_tail(ui.log)}"

            frame = web.open_outputs_tab(case.dag_id)
            if case.expect_file:
                partition = f"date={case.window[0][1]}" if case.window else ""
                link = frame.locator(f'h2[id="{partition}"] ~ table a', has_text=case.expect_file).first
                href = link.get_attribute("href")
                answer = context.request.get(f"{ui.url}{href}")  # the click: the UI's cookie, redirect followed
                key = f"{case.dag_id}/{partition}/{case.expect_file}"
                assert answer.ok, f"download of {key}: {answer.status}"
                assert answer.body() == _s3_bytes(ui, key)
                web.shot(f"{case.dag_id}-done")
        except BaseException as exc:
            web.shot("failure")
            raise AssertionError(f"{exc}\nscreenshots: {shots}") from exc
    print(f"{case.dag_id}: window via {widgets or 'defaults'}, {time.monotonic() - started:.0f} s")


def wait_new_run(ui: RunningUI, dag_id: str, before: set[str], timeout: float = 60) -> list[str]:
    """The manual run the form created (unpausing may also start the DAG's latest scheduled run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [r["dag_run_id"] for r in ui.runs(dag_id)
               if r["dag_run_id"] not in before and r["run_type"] == "manual"]
        if new:
            return new
        time.sleep(1)
    raise TimeoutError(f"no run of {dag_id} appeared after submitting the form")
