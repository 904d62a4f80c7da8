"""Every DAG's trigger form renders as a person can fill it (docs/forms.md: how Airflow 3.3.2 renders each
schema): a title and a section on every param, one non-null type, date pickers for the window, multi-selects
for enum lists, labelled nullable selects, markdown where descriptions have markup, the write choice first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genesys_cloud.params import form_problems

ROOT = Path(__file__).resolve().parents[2]
# every DAG of the product (a new DAG cannot be left out: the sweep's form once was, without date pickers)
DAGS = sorted(p.stem for p in (ROOT / "dags").glob("genesys_*.py"))


@pytest.fixture(scope="module")
def forms(airflow_db: Path) -> dict[str, dict[str, dict[str, Any]]]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    forms = {}
    for dag_id in DAGS:
        params = bag.get_dag(dag_id).params
        # Param keeps `description` beside its schema; the form shows both
        forms[dag_id] = {name: {**params.get_param(name).schema, "description": params.get_param(name).description}
                         for name in params}
    return forms


@pytest.mark.parametrize("dag_id", DAGS)
def test_every_param_renders_as_a_labelled_widget(forms: dict[str, Any], dag_id: str) -> None:
    assert form_problems(forms[dag_id]) == []


def test_windows_have_date_pickers_and_the_ready_made_fields(forms: dict[str, Any]) -> None:
    for dag_id in ("genesys_conversation_report", "genesys_campaign_execution_stats", "genesys_reporting_export"):
        assert forms[dag_id]["start"]["format"] == forms[dag_id]["end"]["format"] == "date"
        assert forms[dag_id]["fail_on_no_data"]["type"] == "boolean"
    report = forms["genesys_conversation_report"]
    assert report["group_by"]["examples"] == ["mediaType", "queueId", "originatingDirection", "outboundCampaignId"]
    assert report["formats"]["values_display"]["parquet"] == "Parquet"
    assert report["media_type"]["values_display"]["null"] == "(all media types)"
    assert "`timezone`" in report["start"]["description_md"] and "`" not in report["start"]["description"]
    assert "Admin > Contact Center > Queues" in report["queue_ids"]["description"]
    stats = forms["genesys_campaign_execution_stats"]
    assert set(stats["status_filter"]["examples"]) == set(stats["status_filter"]["values_display"])


def test_the_write_choice_comes_first(forms: dict[str, Any]) -> None:
    assert next(iter(forms["genesys_campaign_pacing_forecast"])) == "apply"
    assert next(iter(forms["genesys_campaign_schedule_provisioning"])) == "dry_run"
