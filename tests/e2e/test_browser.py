"""The Airflow UI as a person uses it, in headless Chromium against the stack `make airflow` starts.

Log in (admin/admin), open each DAG's trigger form and check it shows the sections its params declare, in
their order; for the rows that trigger: set the window through its date picker (or leave the defaults),
submit, wait for the run to end as expected, open the DAG's *Outputs* tab and one file (the presigned
download returns the file's bytes); the provisioning form submitted with its defaults writes nothing to
the dialer (the sandbox's write journal does not grow) and succeeds; the connection list's Test button
passes and the connection's Edit form shows every custom field (Region included). Never skipped: a missing browser fails with
the install hint. Capped at 10 minutes. Screenshots of every step are kept under the test's tmp dir
(named in the failure message). Forms are rows of ``FORMS``: add a DAG by adding a row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import httpx
import pytest
from browser_support import AirflowPage, FormCase, browser_missing, chromium
from ui_support import RunningUI, log_tail, processes_with_home, start_ui

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TODAY = datetime.now(UTC).date().isoformat()

FORMS = [
    # defaults only: the reporting day before the run (yesterday: the sandbox runs on the real clock)
    FormCase("genesys_conversation_report", expect_file="report.csv", partition=f"date={YESTERDAY}"),
    # the window through the date pickers
    FormCase("genesys_campaign_execution_stats", window=(("start", YESTERDAY), ("end", TODAY)),
             expect_file="campaign_stats.json"),
    # the window through the date pickers; the export waits in a deferred trigger, then delivers
    FormCase("genesys_reporting_export", window=(("start", YESTERDAY), ("end", TODAY)),
             expect_file="campaign_performance_summary_view.csv"),
    # propose only (apply stays off): a forecast per campaign, its chart on the outputs page
    FormCase("genesys_campaign_pacing_forecast", window=(("start", YESTERDAY), ("end", TODAY)),
             first_section="Apply", expect_file="recommendations.json", expect_chart=True, expect_no_writes=True),
    # the sweep over the days the runs above published, through its date pickers: it probes them and
    # succeeds (a day whose source changed would be re-run through Airflow, none is expected here)
    FormCase("genesys_restatement_sweep", window=(("start", YESTERDAY), ("end", TODAY))),
    # defaults only, "Unpause on trigger" left ticked as a person leaves it: the manual run is a dry-run plan
    # of the desired-schedules file, succeeds and writes nothing to the dialer (the stack's file is empty,
    # so the hourly reconcile that unpausing starts has nothing to write either: any write would be the
    # manual run's)
    FormCase("genesys_campaign_schedule_provisioning", expect_no_writes=True, first_section="Run"),
]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUI]:
    missing = browser_missing()
    if missing:
        pytest.fail(missing)  # never a skip: a machine without the browser must not pass silently
    home = tmp_path_factory.mktemp("browser")
    desired = home / "desired_schedules.yaml"
    # One future evening window for the sandbox's "Fixture Normal" campaign: the default manual run plans
    # it (a dry run), and the hourly reconcile that unpausing starts only plans too (the launcher does not
    # set GENESYS_RECONCILE_APPLY), so the sandbox's write journal must not grow (see FORMS).
    first = datetime.now(UTC).date() + timedelta(days=2)
    desired.write_text(
        "campaigns:\n  - campaign_id: c0ffee00-0000-4000-8000-000000000001\n    time_zone: Europe/Dublin\n"
        "    delivery_window: {start_time: '18:00', end_time: '21:00', time_zone: Europe/Dublin, "
        f"start_date: '{first}', end_date: '{first + timedelta(days=6)}'}}\n")
    running = start_ui(home / "home", GENESYS_DESIRED_SCHEDULES=str(desired))
    try:
        yield running
    finally:
        running.stop()
    assert processes_with_home(running.home) == []


def declared_sections(ui: RunningUI, dag_id: str) -> list[str]:
    """The sections the deployed DAG's params declare, in the order of their first param."""
    params = ui.api("GET", f"/dags/{dag_id}/details").json()["params"]
    sections: list[str] = []
    for spec in params.values():
        section = (spec.get("schema") or {}).get("section") if isinstance(spec, dict) else None
        if section and section not in sections:
            sections.append(section)
    return sections


def sandbox_writes(ui: RunningUI) -> list[dict]:
    return httpx.get(f"{ui.sandbox_url}/_sandbox/writes", timeout=30).json()


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
            sections = declared_sections(ui, case.dag_id)
            assert sections, f"{case.dag_id}: no param declares a section"
            assert web.sections_in_order(dialog, sections) == sections, "the form's sections"
            if case.first_section:  # the dry-run / apply choice comes first
                assert sections[0] == case.first_section, sections
            if not case.trigger:
                print(f"{case.dag_id}: form with sections {sections}, {time.monotonic() - started:.0f} s")
                return
            widgets = {}
            if case.window:
                for name, day in case.window:
                    widgets[name] = web.set_date(dialog, name, day)
            for name, value in case.fields.items():
                web.set_field(dialog, name, value)
            writes_before = len(sandbox_writes(ui)) if case.expect_no_writes else 0
            web.submit(dialog, case.dag_id, case.unpause)
            [run_id] = wait_new_run(ui, case.dag_id, before)
            state = ui.wait_run(case.dag_id, run_id, case.run_timeout_s)
            if case.expect_state:
                assert state == case.expect_state, f"{run_id} ended {state}\n{log_tail(ui.log)}"
            if case.expect_no_writes:
                assert sandbox_writes(ui)[writes_before:] == [], f"{run_id} ({state}) wrote to the dialer"

            frame = web.open_outputs_tab(case.dag_id)
            if case.expect_file:
                partition = case.partition or f"date={case.window[0][1]}"
                link = frame.locator(f'h2[id="{partition}"] ~ table a', has_text=case.expect_file).first
                href = link.get_attribute("href")
                answer = context.request.get(f"{ui.url}{href}")  # the click: the UI's cookie, redirect followed
                key = f"{case.dag_id}/{partition}/{case.expect_file}"
                assert answer.ok, f"download of {key}: {answer.status}"
                assert answer.body() == _s3_bytes(ui, key)
            if case.expect_chart:
                partition = case.partition or f"date={case.window[0][1]}"
                chart = frame.locator(f'h2[id="{partition}"] ~ div img.chart').first
                chart.wait_for(state="visible", timeout=30_000)
                assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart did not load"
                src = chart.get_attribute("src")
                answer = context.request.get(f"{ui.url}{src}")
                key = parse_qs(urlparse(src).query)["key"][0]
                assert answer.ok and answer.body()[:4] == b"\x89PNG" and answer.body() == _s3_bytes(ui, key), key
            if case.expect_file or case.expect_chart:
                web.shot(f"{case.dag_id}-done")
        except BaseException as exc:
            web.shot("failure")
            raise AssertionError(f"{exc}\nscreenshots: {shots}") from exc
    print(f"{case.dag_id}: sections {sections}, window via {widgets or 'defaults'}, run {state}, "
          f"{time.monotonic() - started:.0f} s")


@pytest.mark.timeout(300)
def test_the_connection_test_button_passes_and_edit_shows_every_field(ui: RunningUI, tmp_path: Path) -> None:
    """*Admin → Connections*: the row's Test button answers success (the hook got a token and read the
    limits), and *Edit* of the bootstrapped connection shows every custom field the Add form has."""
    import re

    from genesys_cloud.hooks.connection import CONN_FIELDS

    shots = tmp_path / "screenshots"
    with chromium() as context:
        web = AirflowPage(context, ui.url, shots)
        try:
            web.login()
            page = web.page
            page.goto(f"{ui.url}/connections")
            row = page.locator("tr", has_text="genesys_cloud_default").first
            row.wait_for()
            row.get_by_role("button", name="Test Connection").click()
            page.get_by_text("Test Connection Successful").first.wait_for(timeout=90_000)
            assert page.get_by_text("Authenticated against").count(), "the toast does not carry the hook's answer"
            web.shot("connection-tested")
            row.get_by_role("button", name="Edit Connection").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("Edit Connection").first.wait_for()
            dialog.locator("button[aria-expanded]", has_text=re.compile(r"^\s*Extra Fields\s*$")).first.click()
            for name in CONN_FIELDS:
                dialog.locator(f'[name="element_{name}"]').first.wait_for()  # visible
            assert dialog.get_by_text(CONN_FIELDS["region"]["label"]).first.is_visible()
            web.shot("connection-edit")
        except BaseException as exc:
            web.shot("failure")
            raise AssertionError(f"{exc}\nscreenshots: {shots}") from exc


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
