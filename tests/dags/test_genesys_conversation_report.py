"""End to end: genesys_conversation_report with dag.test() against the sandbox and the local S3."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_conversation_report"
DETAILS = "POST /api/v2/analytics/conversations/details/query"
JOBS = "POST /api/v2/analytics/conversations/details/jobs"


@pytest.fixture(scope="module")
def dag(airflow_db: Path, devstack: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def run(dag: Any, day: str, **conf: Any) -> Any:
    """The scheduled run (02:00 UTC) whose window is ``day``."""
    logical = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), UTC).replace(hour=2)
    # These tests read the day's partition: a narrower selection replaces it deliberately (else it would
    # publish under selection=<digest>/, see tests/plugins/sinks/test_sinks_delivery.py).
    conf.setdefault("replace_partition", True)
    return dag.test(logical_date=logical, run_after=logical, run_conf=conf)


def states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def extracted(dag_run: Any) -> dict[str, Any]:
    """The extraction step's result: which method it used (sync query or async job) and its counts."""
    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "extract"]
    return ti.xcom_pull(task_ids="extract")


def partition(sandbox: Any, day: str) -> dict[str, bytes]:
    prefix = f"{DAG_ID}/date={day}/"
    return {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}


# -- an independent computation, straight from the API's JSON (no pipeline code) ----------------------


def fetch_day(sandbox: Any, day: str) -> list[dict[str, Any]]:
    token = httpx.post(f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
    nxt = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    body: dict[str, Any] = {
        "interval": f"{day}T00:00:00.000Z/{nxt}T00:00:00.000Z", "order": "asc", "orderBy": "conversationStart",
        "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
    }
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        body["paging"] = {"pageSize": 200, "pageNumber": page}
        answer = httpx.post(f"{sandbox.sandbox_url}/api/v2/analytics/conversations/details/query", json=body,
                            headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
        for conv in answer.get("conversations") or []:
            if conv["conversationStart"].startswith(day):
                found.setdefault(conv["conversationId"], conv)
        if not answer.get("conversations") or page * 200 >= answer["totalHits"]:
            return list(found.values())
        page += 1


def expected_groups(conversations: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "dur": 0, "talk": 0, "hold": 0, "codes": set()})
    for conv in conversations:
        queued = []  # (segmentStart, order, queueId, mediaType) over acd/agent sessions
        media_first = None
        talk = hold = 0
        codes = set()
        for p in conv.get("participants", []):
            for s in p.get("sessions", []):
                media_first = media_first or s.get("mediaType")
                segs = s.get("segments", [])
                with_queue = [g for g in segs if g.get("queueId")]
                if p.get("purpose") in ("acd", "agent") and with_queue:
                    g = with_queue[0]
                    queued.append((datetime.fromisoformat(g["segmentStart"]), len(queued), g["queueId"],
                                   s.get("mediaType")))
                codes |= {g["wrapUpCode"] for g in segs if g.get("wrapUpCode")}
                if p.get("purpose") == "agent":
                    for m in s.get("metrics", []):
                        talk += m["value"] if m["name"] == "tTalk" else 0
                        hold += m["value"] if m["name"] == "tHeld" else 0
        _, _, queue, media = min(queued) if queued else (None, None, "", media_first)
        g = groups[(media or "", queue or "")]
        g["n"] += 1
        g["dur"] += round((datetime.fromisoformat(conv["conversationEnd"])
                           - datetime.fromisoformat(conv["conversationStart"])).total_seconds() * 1000)
        g["talk"] += talk
        g["hold"] += hold
        g["codes"] |= codes
    return groups


def test_sync_and_async_give_identical_correct_outputs(sandbox: Any, dag: Any) -> None:
    from genesys_cloud.sinks.audit import AuditSink

    day = sandbox.demo_date
    sync_run = run(dag, day, mode="sync")
    assert str(sync_run.state) == "success", states(sync_run)
    assert extracted(sync_run)["method"] == "sync" and extracted(sync_run)["job_id"] is None
    files = partition(sandbox, day)
    assert set(files) == {"report.csv", "report.json", "report.parquet", "sessions.parquet", "_manifest.json"}
    assert sandbox.counters().get(JOBS) is None

    # The report against a computation made straight from the API's JSON.
    expected = expected_groups(fetch_day(sandbox, day))
    report = list(csv.DictReader(io.StringIO(files["report.csv"].decode())))
    assert {(r["mediaType"], r["queueId"]) for r in report} == set(expected)
    for r in report:
        e = expected[(r["mediaType"], r["queueId"])]
        assert int(r["conversation_count"]) == e["n"]
        assert float(r["avg_duration_s"]) == pytest.approx(e["dur"] / e["n"] / 1000, abs=1e-5)
        assert float(r["talk_ratio"]) == pytest.approx(e["talk"] / e["dur"], abs=1e-5)
        assert float(r["hold_ratio"]) == pytest.approx(e["hold"] / e["dur"], abs=1e-5)
        assert float(r["efficiency_score"]) == pytest.approx(max(0, 100 - 50 * e["hold"] / e["dur"]), abs=1e-4)
        assert set(filter(None, r["wrapup_codes"].split("|"))) == e["codes"]
    total = sum(e["n"] for e in expected.values())
    assert total > 100
    # names next to ids, from the real listings: every queue (the inbound-only one no campaign uses too)
    # and every wrap-up code, in the same order as the ids
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

    with GenesysCloudHook() as hook:
        listed_queues = {q.id: q.name for q in hook.list_queues()}
        listed_codes = {c.id: c.name for c in hook.list_wrapup_codes()}
    queue_names = {r["queueId"]: r["queueName"] for r in report if r["queueId"]}
    assert queue_names == {q: listed_queues[q] for q in queue_names}
    assert queue_names[sandbox.fixtures["inbound_queue"]] == "Inbound Support"
    for r in report:
        codes, code_names = r["wrapup_codes"].split("|"), r["wrapup_code_names"].split("|")
        assert code_names == [listed_codes[c] for c in codes] if r["wrapup_codes"] else code_names == [""]
    assert any(r["wrapup_code_names"] for r in report)

    import pyarrow.parquet as pq

    sessions = pq.read_table(io.BytesIO(files["sessions.parquet"]))
    assert len(set(sessions.column("conversation_id").to_pylist())) == total
    starts = sessions.column("conversation_start").to_pylist()
    assert starts == sorted(starts)
    # the session table names each wrap-up code too, in the column after it
    columns = sessions.column_names
    assert columns[columns.index("wrap_up_code") + 1] == "wrap_up_code_name"
    pairs = set(zip(sessions.column("wrap_up_code").to_pylist(), sessions.column("wrap_up_code_name").to_pylist(), strict=True))
    assert {(c, n) for c, n in pairs if c} == {(c, listed_codes[c]) for c, _ in pairs if c} and (None, None) in pairs
    document = json.loads(files["report.json"])
    assert [row["conversation_count"] for row in document["rows"]] == [int(r["conversation_count"]) for r in report]

    # Webhook: presigned URLs that work, idempotency key independent of them.
    [delivery] = sandbox.webhooks("bi")
    body = delivery["body"]
    assert body["conversations"] == total and body["groups"] == len(report) and body["mode"] == "sync"
    urls = {o["name"]: o["url"] for o in body["objects"]}
    assert httpx.get(urls["report.csv"]).content == files["report.csv"]
    [audit] = AuditSink().rows(DAG_ID, run_id=sync_run.run_id, event="report_published")
    assert audit["record_count"] == total and audit["details"]["groups"] == len(report)
    assert audit["details"]["duplicates_dropped"] == 0 and audit["latency_ms"] > 0

    # The async job path: same bytes in every object (manifest included).
    async_run = run(dag, day, mode="async")
    assert str(async_run.state) == "success", states(async_run)
    assert extracted(async_run)["method"] == "job" and extracted(async_run)["job_id"]
    assert sandbox.counters().get(JOBS) == 1
    assert partition(sandbox, day) == files
    # Same window and step, same idempotency key although the URLs differ: the receiver keeps one.
    assert [d["body"]["mode"] for d in sandbox.webhooks("bi")] == ["sync"]
    [async_audit] = AuditSink().rows(DAG_ID, run_id=async_run.run_id, event="report_published")
    assert async_audit["details"]["mode"] == "async" and async_audit["record_count"] == total

    # Re-run (auto mode, small day: sync) rewrites the partition byte-identically; no work left behind.
    again = run(dag, day)
    assert str(again.state) == "success", states(again)
    assert partition(sandbox, day) == files
    assert not [k for k in sandbox.list_keys(f"{DAG_ID}/") if "/_work/" in k or "/_staging/" in k]


def test_filters_and_grouping(sandbox: Any, dag: Any) -> None:
    day = sandbox.demo_date
    everything = expected_groups(fetch_day(sandbox, day))
    voice = [k for k in everything if k[0] == "voice" and k[1]]
    queue = voice[0][1]
    dag_run = run(dag, day, media_type="voice", queue_ids=[queue], group_by=["queueId"], formats=["json"])
    assert str(dag_run.state) == "success", states(dag_run)
    files = partition(sandbox, day)
    assert set(files) == {"report.json", "sessions.parquet", "_manifest.json"}
    rows = json.loads(files["report.json"])["rows"]
    assert rows and all(set(r) >= {"queueId", "conversation_count"} and "mediaType" not in r for r in rows)
    # A sandbox conversation has one queue: the filtered report is exactly that group of the full day.
    assert sum(r["conversation_count"] for r in rows) == everything[("voice", queue)]["n"]


def test_invalid_param_fails_before_any_api_call(sandbox: Any, dag: Any) -> None:
    dag_run = run(dag, sandbox.demo_date, timezone="Mars/Olympus")
    assert str(dag_run.state) == "failed"
    assert states(dag_run)["validate_params"] == "failed"
    assert not [k for k in sandbox.counters() if " /api/v2/" in k]


def fetch_filtered_day(sandbox: Any, day: date, segment_filters: list[dict[str, Any]]) -> set[str]:
    """The ids of one UTC day's finished conversations under ``segment_filters``, straight from the API."""
    token = httpx.post(f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
    body: dict[str, Any] = {
        "interval": f"{day}T00:00:00.000Z/{day + timedelta(days=1)}T00:00:00.000Z", "segmentFilters": segment_filters,
        "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
    }
    found: set[str] = set()
    page = 1
    while True:
        body["paging"] = {"pageSize": 200, "pageNumber": page}
        answer = httpx.post(f"{sandbox.sandbox_url}/api/v2/analytics/conversations/details/query", json=body,
                            headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
        found |= {c["conversationId"] for c in answer.get("conversations") or []
                  if c["conversationStart"].startswith(day.isoformat())}
        if not answer.get("conversations") or page * 200 >= answer["totalHits"]:
            return found
        page += 1


def test_a_40_day_report_is_split_into_queries_the_api_accepts(sandbox: Any, dag: Any) -> None:
    """40 days (voice, one queue) exceed the details query's 31-day limit: the pager cuts the window at a
    UTC midnight into pieces of at most 31 days, and the session table holds exactly the union of the
    forty days' conversations."""
    import pyarrow.parquet as pq

    from genesys_pipelines.models.limits import DETAILS_FILTERED_DAYS

    last = date.fromisoformat(sandbox.demo_date)
    first = last - timedelta(days=39)
    everything = expected_groups(fetch_day(sandbox, sandbox.demo_date))
    queue = next(k[1] for k in everything if k[0] == "voice" and k[1])
    # The journal keeps the last 10,000 requests: only those after this point belong to the run.
    seq_before = max([r["seq"] for r in sandbox.admin.get("/_sandbox/requests").json()] or [0])
    # A run date of its own, and every param this test relies on given explicitly: on the module's shared
    # DAG object, a param another test's dag.test() conf set (timezone="Mars/Olympus") can linger.
    dag_run = run(dag, (last + timedelta(days=1)).isoformat(), start=first.isoformat(),
                  end=(last + timedelta(days=1)).isoformat(), timezone="UTC",
                  media_type="voice", queue_ids=[queue], mode="sync", formats=["json"])
    assert str(dag_run.state) == "success", states(dag_run)

    journal = [r for r in sandbox.admin.get("/_sandbox/requests").json() if r["seq"] > seq_before]
    queries = [r for r in journal if f"{r['method']} {r['path']}" == DETAILS]
    assert queries and all(r["status"] == 200 for r in queries)
    spans = sorted({r["interval"] for r in queries if r["interval"]})
    lengths = []
    for span in spans:
        start_s, end_s = span.split("/")
        lengths.append((datetime.fromisoformat(end_s) - datetime.fromisoformat(start_s)) / timedelta(days=1))
    assert max(lengths) <= DETAILS_FILTERED_DAYS.default_days
    assert f"{first}T00:00:00.000Z/{first + timedelta(days=31)}T00:00:00.000Z" in spans  # cut at a midnight
    assert f"{first + timedelta(days=31)}T00:00:00.000Z/{last + timedelta(days=1)}T00:00:00.000Z" in spans

    fmt = "%Y%m%dT%H%M%SZ"
    window = datetime.combine(first, datetime.min.time(), UTC), datetime.combine(last + timedelta(days=1),
                                                                                 datetime.min.time(), UTC)
    prefix = f"{DAG_ID}/interval={window[0].strftime(fmt)}_{window[1].strftime(fmt)}/"
    sessions = pq.read_table(io.BytesIO(sandbox.read(prefix + "sessions.parquet")))
    ids = set(sessions.column("conversation_id").to_pylist())
    voice_queue = [{"type": "and", "predicates": [{"dimension": "mediaType", "value": "voice"}],
                    "clauses": [{"type": "or", "predicates": [{"dimension": "queueId", "value": queue}]}]}]
    union: set[str] = set()
    for offset in range(40):
        union |= fetch_filtered_day(sandbox, first + timedelta(days=offset), voice_queue)
    assert len(union) > 40 and ids == union
