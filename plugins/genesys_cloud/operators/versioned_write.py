"""Set fields of a versioned entity (a campaign or a campaign schedule) safely: compare, PUT with version,
re-read after a 409 or a lost answer, verify (:meth:`~genesys_cloud.hooks.writes.WriteVerbs.set_fields`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Context

from genesys_cloud.exceptions import GenesysJobError
from genesys_cloud.hooks.writes import Entity
from genesys_cloud.operators.base import GenesysBaseOperator, genesys_template_fields


class GenesysVersionedWriteOperator(GenesysBaseOperator):
    """Set ``changes`` on one campaign or campaign schedule; returns the write outcome (status, writes, 409s,
    lost answers, the changed fields before and after). A refused write fails the task naming the cause.

    :param entity: ``"campaign"`` or ``"campaign_schedule"``.
    :param entity_id: the campaign id (templated).
    :param changes: top-level fields in their JSON names and their new values (templated), e.g.
        ``{"maxCallsPerAgentDecimal": 1.5}`` (the decimal flag is sent when that field is written).
    :param max_attempts: writes at most (first + retries after a 409 or a lost answer).
    """

    template_fields: Sequence[str] = genesys_template_fields("entity_id", "changes")
    template_fields_renderers = {"changes": "json"}

    def __init__(self, *, entity: Entity, entity_id: str, changes: Mapping[str, Any], max_attempts: int = 5,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if entity not in ("campaign", "campaign_schedule"):
            raise ValueError(f"entity must be 'campaign' or 'campaign_schedule', got {entity!r}")
        self.entity = entity
        self.entity_id = entity_id
        self.changes = changes
        self.max_attempts = max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        changes = dict(self.changes)
        outcome = self.hook.set_fields(self.entity, str(self.entity_id), changes, self.max_attempts)

        def fields(state: Any) -> dict[str, Any]:
            return {k: (state or {}).get(k) for k in sorted(changes)}

        result = {k: v for k, v in outcome.to_dict().items() if k not in ("plan", "initial_plan", "before", "after")}
        result.update(before=fields(outcome.before), after=fields(outcome.after))
        if outcome.status in ("failed", "refused"):
            raise GenesysJobError(f"{self.entity} {self.entity_id} not written: {outcome.error}")
        self.log.info("%s %s: %s after %d write(s)", self.entity, self.entity_id, outcome.status, outcome.writes)
        return result
