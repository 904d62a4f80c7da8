"""Routing models: queues and wrap-up codes (the listings that name the ids analytics returns).

Field names, types and enums follow PureCloudPlatformClientV2 269.0.0 ``models/`` (``Queue``,
``QueueEntityListing``, ``AcwSettings``, ``WrapupCode``, ``WrapupCodeEntityListing``). Only the fields
the sandbox serves and the pipelines read are declared; unknown keys are kept (``extra="allow"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from genesys_pipelines.models.common import DomainEntityRef, GenesysModel, PageListing
from genesys_pipelines.models.outbound import WrapupCode, WrapupCodeEntityListing

__all__ = ["AcwSettings", "Queue", "QueueEntityListing", "WrapupCode", "WrapupCodeEntityListing"]


class AcwSettings(GenesysModel):
    wrapup_prompt: Literal["MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT",
                           "AGENT_REQUESTED"] | None = None
    timeout_ms: int | None = None


class Queue(GenesysModel):
    """``Queue`` as ``GET /api/v2/routing/queues`` lists it."""

    id: str | None = None
    name: str | None = None
    division: DomainEntityRef | None = None  # SDK: Division {id, name, selfUri}
    description: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    modified_by: str | None = None
    created_by: str | None = None
    member_count: int | None = None
    user_member_count: int | None = None
    joined_member_count: int | None = None
    acw_settings: AcwSettings | None = None
    skill_evaluation_method: Literal["NONE", "BEST", "ALL"] | None = None
    auto_answer_only: bool | None = None
    enable_transcription: bool | None = None
    enable_manual_assignment: bool | None = None
    self_uri: str | None = None


class QueueEntityListing(PageListing[Queue]):
    pass
