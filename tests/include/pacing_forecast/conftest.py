"""Synthetic hourly series with known seasonality, shared by the pacing forecast unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from genesys_pipelines.pacing_forecast.history import HourlyCounts
from genesys_pipelines.windows import Window

END = datetime(2026, 6, 11, tzinfo=UTC)


def daily_profile(hour: int) -> float:
    """A known daily answer-rate shape: 0.30 in the morning rising to 0.55 in the evening."""
    return 0.30 + 0.25 * (hour - 8) / 12 if 8 <= hour <= 20 else 0.0


def synthetic_counts(days: int, attempts: int = 40, seed: int = 7, dial_hours: range = range(8, 21)) -> HourlyCounts:
    """Binomial connects around ``daily_profile`` in the dialing hours; other hours absent (as the API does)."""
    rng = np.random.default_rng(seed)
    start = END - timedelta(days=days)
    counts: HourlyCounts = {}
    for h in range(days * 24):
        hour = start + timedelta(hours=h)
        if hour.hour in dial_hours:
            counts[hour] = (attempts, int(rng.binomial(attempts, daily_profile(hour.hour))))
    return counts


@pytest.fixture
def window() -> Window:
    return Window(END - timedelta(days=1), END)


@pytest.fixture
def make_counts():  # noqa: ANN201 (a factory fixture)
    return synthetic_counts


@pytest.fixture
def profile():  # noqa: ANN201 (the known shape, for assertions)
    return daily_profile
