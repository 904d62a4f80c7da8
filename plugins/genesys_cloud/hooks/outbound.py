"""Outbound resource verbs (campaigns, schedules, contact lists, wrap-up code mappings; genesys-api.md §3a/d/e).

A mixin of :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook`: every verb goes through the
hook's transport (rate budget, retries, typed errors) and returns the shared API model, checked on the
way in (:func:`~genesys_cloud.hooks.policy.as_model`): a broken answer fails naming the field instead of
reaching a plan or a write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from genesys_cloud.exceptions import GenesysNotFoundError, GenesysPayloadError, GenesysValidationError
from genesys_cloud.hooks import paths
from genesys_cloud.hooks.paths import api_path
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.models.outbound import (
    Campaign,
    CampaignProgress,
    CampaignSchedule,
    CampaignStats,
    ContactList,
    WrapUpCodeMapping,
)

#: The campaign listing's largest page.
CAMPAIGNS_PAGE_SIZE = 100
#: ``maxCallsPerAgentDecimal`` is written only with this flag (SDK: campaign PUT/POST; reads always carry it).
DECIMAL_CALLS = {"useMaxCallsPerAgentDecimal": "true"}


def require_version(body: Mapping[str, Any], what: str) -> None:
    """A PUT of an existing versioned entity carries the positive integer ``version`` just read
    (genesys-api.md §2.3). Without it the API refuses (409, or possibly 400: unverified), so it is never
    sent: GenesysValidationError, before any call."""
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GenesysValidationError(f"PUT of {what} without a version (got {version!r}): read the entity and "
                                     "send the version it carries")


class OutboundVerbs:
    """Campaigns and their schedules. Mixed into the hook (``self`` has ``get``/``put``/``paginate``...)."""

    # -- campaigns ------------------------------------------------------------------------------------
    def list_campaigns(
        self, *, contact_list_id: str | None = None, queue_id: str | None = None
    ) -> Iterator[Campaign]:
        """Every campaign of the listing (100 a page), optionally filtered server-side; each has an id."""
        params: dict[str, Any] = {}
        if contact_list_id:
            params["contactListId"] = contact_list_id
        if queue_id:
            params["distributionQueueId"] = queue_id
        for entity in self.paginate(paths.CAMPAIGNS, params or None, page_size=CAMPAIGNS_PAGE_SIZE):
            yield as_model(Campaign, entity, "campaign in the listing", require=("id",))

    def get_campaign(self, campaign_id: str) -> Campaign:
        """One campaign (404 → GenesysNotFoundError), ``maxCallsPerAgentDecimal`` included (the decimal
        flag exists only on the write operations)."""
        body = self.get(api_path(paths.CAMPAIGN, campaign_id=campaign_id))
        campaign = as_model(Campaign, body, f"campaign {campaign_id}", require=("id",))
        if campaign.id != campaign_id:
            # A write plans from this answer and PUTs to its id: another campaign's body must never pass.
            raise GenesysPayloadError(f"campaign {campaign_id}: the answer is campaign {str(campaign.id)[:64]!r}")
        return campaign

    def find_campaign(self, campaign_id: str) -> Campaign | None:
        """:meth:`get_campaign`, or None when the campaign does not exist (404)."""
        try:
            return self.get_campaign(campaign_id)
        except GenesysNotFoundError:
            return None

    def put_campaign(self, campaign: Campaign | Mapping[str, Any], *, decimal_calls: bool = False) -> Any:
        """PUT the full campaign with its ``version`` (409 → GenesysConflictError); never retried blindly.
        A body without a version is refused before any call (:func:`require_version`)."""
        body = campaign.to_api() if isinstance(campaign, Campaign) else dict(campaign)
        require_version(body, f"campaign {body.get('id')}")
        return self.put(api_path(paths.CAMPAIGN, campaign_id=body.get("id")), body,
                        params=dict(DECIMAL_CALLS) if decimal_calls else None)

    def campaign_stats(self, campaign_id: str) -> CampaignStats:
        """Live ``CampaignStats`` (cumulative state now, not window data)."""
        body = self.get(api_path(paths.CAMPAIGN_STATS, campaign_id=campaign_id))
        return as_model(CampaignStats, body, f"stats of campaign {campaign_id}")

    def campaign_progress(self, campaign_id: str) -> CampaignProgress:
        body = self.get(api_path(paths.CAMPAIGN_PROGRESS, campaign_id=campaign_id))
        return as_model(CampaignProgress, body, f"progress of campaign {campaign_id}")

    # -- schedules ------------------------------------------------------------------------------------
    def get_campaign_schedule(self, campaign_id: str) -> CampaignSchedule | None:
        """The campaign's schedule, or None when it has none (the API answers 404)."""
        try:
            body = self.get(api_path(paths.CAMPAIGN_SCHEDULE, campaign_id=campaign_id))
        except GenesysNotFoundError:
            return None
        return as_model(CampaignSchedule, body, f"schedule of campaign {campaign_id}")

    def list_campaign_schedules(self) -> list[CampaignSchedule]:
        """Every campaign schedule (the API answers one unpaged array)."""
        body = self.get(paths.CAMPAIGN_SCHEDULES)
        if not isinstance(body, list):
            raise GenesysPayloadError(f"malformed {paths.CAMPAIGN_SCHEDULES}: expected an array of schedules")
        return [as_model(CampaignSchedule, item, "schedule in the listing") for item in body]

    def put_campaign_schedule(self, campaign_id: str, schedule: CampaignSchedule | Mapping[str, Any], *,
                              create: bool = False) -> Any:
        """PUT the campaign's schedule with the ``version`` just read. ``create=True`` (the campaign had no
        schedule when it was read) sends it without one: there is nothing to be stale against; if a
        schedule appeared meanwhile the API answers 409 and the caller re-reads. Any other body without a
        version is refused before any call (:func:`require_version`)."""
        body = schedule.to_api() if isinstance(schedule, CampaignSchedule) else dict(schedule)
        if not create:
            require_version(body, f"the schedule of campaign {campaign_id}")
        return self.put(api_path(paths.CAMPAIGN_SCHEDULE, campaign_id=campaign_id), body)

    def delete_campaign_schedule(self, campaign_id: str) -> None:
        """DELETE the schedule; an absent one (404) is the desired state already."""
        try:
            self.delete(api_path(paths.CAMPAIGN_SCHEDULE, campaign_id=campaign_id))
        except GenesysNotFoundError:
            pass

    # -- contact lists and wrap-up codes ----------------------------------------------------------------
    def contact_list_size(self, contact_list_id: str) -> int | None:
        """The list's ``size`` (``includeSize=true``), or None when the list is gone or has no size."""
        try:
            body = self.get(api_path(paths.CONTACT_LIST, contact_list_id=contact_list_id), {"includeSize": "true"})
        except GenesysNotFoundError:
            return None
        size = as_model(ContactList, body, f"contact list {contact_list_id}").size
        return int(size) if isinstance(size, int | float) else None

    def wrapup_code_mappings(self) -> WrapUpCodeMapping:
        return as_model(WrapUpCodeMapping, self.get(paths.WRAPUP_CODE_MAPPINGS), "wrap-up code mappings")
