"""Fixtures of the conversation report's pure tests (data built in conversation_report_data.py)."""

from __future__ import annotations

from typing import Any

import pytest
from conversation_report_data import sample_conversations


@pytest.fixture
def conversations() -> list[dict[str, Any]]:
    return sample_conversations()
