"""The versioned write's rules, once for every writer (hook.put_versioned).

A tiny entity (``{"value", "version"}``) on an in-memory "server" whose answers each test scripts: 409s,
lost answers that did or did not land, 429s, refusals, and other writers moving the entity in between.
"""

from __future__ import annotations

from typing import Any

import pytest

from genesys_cloud.exceptions import (
    GenesysBadRequestError,
    GenesysConflictError,
    GenesysForbiddenError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTimeoutError,
)
from genesys_cloud.hooks.writes import VersionedWrite, WriteVerbs


class Server:
    """One versioned entity; ``script`` says, write by write, what happens: "ok", "409", "lost" (applied,
    answer lost), "dropped" (not applied, answer lost), "429", "400"."""

    def __init__(self, value: int, script: list[str] | None = None) -> None:
        self.entity: dict[str, Any] | None = {"value": value, "version": 1}
        self.script = list(script or [])
        self.writes: list[dict[str, Any]] = []
        self.reads = 0
        self.on_read: list[Any] = []

    def read(self) -> dict[str, Any] | None:
        self.reads += 1
        if self.on_read:
            change = self.on_read.pop(0)
            if change is not None:
                self.entity = {"value": change, "version": self.entity["version"] + 1}
        return dict(self.entity) if self.entity is not None else None

    def write(self, body: dict[str, Any]) -> None:
        self.writes.append(body)
        step = self.script.pop(0) if self.script else "ok"
        if step == "409" or body["version"] != self.entity["version"]:
            raise GenesysConflictError(409, message="Unexpected version was provided")
        if step == "429":
            raise GenesysRateLimitError(429, message="slow down", retry_after=0)
        if step == "400":
            raise GenesysBadRequestError(400, message="value: invalid")
        if step == "dropped":
            raise GenesysTimeoutError("timed out")
        self.entity = {"value": body["value"], "version": body["version"] + 1}
        if step == "lost":
            raise GenesysServerError(504, message="answer lost")


class SetValue(VersionedWrite[dict[str, Any], dict[str, Any]]):
    """Plan: ``{"value": target, "base": value it was planned from}``; stale when the value moved."""

    label = "entity e1"

    def __init__(self, server: Server, target: int, refuse_above: int | None = None) -> None:
        self.server, self.target, self.refuse_above = server, target, refuse_above

    def read(self) -> dict[str, Any]:
        return self.server.read()

    def is_applied(self, plan: dict[str, Any], state: dict[str, Any]) -> bool:
        return state["value"] == plan["value"]

    def is_stale(self, plan: dict[str, Any], state: dict[str, Any]) -> bool:
        return state["value"] != plan["base"]

    def replan(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"value": self.target, "base": state["value"]}

    def is_noop(self, plan: dict[str, Any]) -> bool:
        return plan["value"] == plan["base"]

    def write(self, plan: dict[str, Any], state: dict[str, Any]) -> Any:
        return self.server.write({"value": plan["value"], "version": state["version"]})

    def refuse(self, state: dict[str, Any]) -> tuple[str, Any] | None:
        if self.refuse_above is not None and state["value"] > self.refuse_above:
            return "another writer went past the limit", {"value": state["value"]}
        return None


class Hook(WriteVerbs):
    pass


def put(server: Server, target: int = 5, attempts: int = 4, **kwargs: Any) -> Any:
    spec = SetValue(server, target, **kwargs)
    return Hook().put_versioned(spec, spec.replan(server.entity), attempts)


def test_equal_state_writes_nothing() -> None:
    server = Server(5)
    outcome = put(server)
    assert outcome.status == "noop" and server.writes == [] and outcome.writes == 0


def test_a_plain_write_is_verified_by_a_read_back() -> None:
    server = Server(1)
    outcome = put(server)
    assert outcome.status == "applied" and server.entity == {"value": 5, "version": 2}
    assert outcome.writes == 1 and outcome.before["value"] == 1 and outcome.after["value"] == 5
    assert server.reads == 2  # the fresh read before, the read-back after


def test_state_already_holding_the_plan_is_not_written_again() -> None:
    server = Server(1)
    spec = SetValue(server, 5)
    plan = spec.replan(server.entity)
    server.entity = {"value": 5, "version": 2}  # an earlier try applied it, then died
    outcome = Hook().put_versioned(spec, plan, 4)
    assert outcome.status == "already_applied" and server.writes == []


def test_another_writer_moving_the_entity_makes_a_new_plan_from_its_value() -> None:
    server = Server(1)
    server.on_read = [None, 3]  # someone else writes 3 right after our first write
    outcome = put(server, attempts=4)
    assert outcome.status == "applied" and server.entity["value"] == 5 and outcome.writes == 2
    assert outcome.replanned == 1 and outcome.plan == {"value": 5, "base": 3}
    assert [w["version"] for w in server.writes] == [1, 3]  # each write carries the version just read


def test_a_scripted_409_retries_with_a_fresh_read() -> None:
    server = Server(1, ["409", "ok"])
    outcome = put(server)
    assert outcome.status == "applied" and outcome.version_conflicts == 1 and outcome.writes == 2


def test_a_lost_answer_of_a_landed_write_is_never_sent_again() -> None:
    server = Server(1, ["lost"])
    outcome = put(server)
    assert outcome.status == "applied" and len(server.writes) == 1 and outcome.lost_answers == 1


def test_a_lost_answer_of_a_write_that_did_not_land_is_retried_once() -> None:
    server = Server(1, ["dropped", "ok"])
    outcome = put(server)
    assert outcome.status == "applied" and len(server.writes) == 2 and outcome.lost_answers == 1


def test_a_429_is_retried_without_counting_as_landed() -> None:
    server = Server(1, ["429", "ok"])
    outcome = put(server)
    assert outcome.status == "applied" and outcome.rate_limited == 1 and outcome.writes == 2


def test_a_refusal_fails_the_entity_with_its_cause_and_no_retry() -> None:
    server = Server(1, ["400"])
    outcome = put(server)
    assert outcome.status == "failed" and "value: invalid" in outcome.error and len(server.writes) == 1
    assert outcome.write_may_have_landed is False


def test_a_refusal_after_a_lost_answer_says_the_write_may_have_landed() -> None:
    server = Server(1, ["dropped", "400"])
    outcome = put(server)
    assert outcome.status == "failed" and outcome.write_may_have_landed is True


def test_a_refused_first_read_fails_before_any_write() -> None:
    class Refusing(Server):
        def read(self) -> dict[str, Any]:
            raise GenesysForbiddenError(403, message="Missing permission")

    server = Refusing(1)
    outcome = put(server)
    assert outcome.status == "failed" and outcome.reads == 0 and server.writes == []


def test_writes_are_bounded() -> None:
    server = Server(1, ["409"] * 10)
    outcome = put(server, attempts=3)
    assert outcome.status == "failed" and outcome.writes == 3 and "not applied after 3 attempts" in outcome.error


def test_a_refusal_reason_from_the_read_back_stops_the_loop() -> None:
    server = Server(1, ["409"])
    server.on_read = [None, 9]  # another writer goes past what this write accepts
    outcome = put(server, refuse_above=6)
    assert outcome.status == "refused" and outcome.refusal == {"value": 9} and len(server.writes) == 1


@pytest.mark.parametrize("script", [["lost"], ["dropped", "ok"], ["409", "ok"], ["429", "lost"]])
def test_the_change_is_applied_exactly_once_whatever_the_faults(script: list[str]) -> None:
    server = Server(1, script)
    outcome = put(server)
    applied = [w for w in server.writes if w["value"] == 5]
    assert outcome.status == "applied" and server.entity["value"] == 5
    assert sum(1 for w, step in zip(server.writes, script + ["ok"] * 5, strict=False)
               if step in ("ok", "lost")) == 1, applied
