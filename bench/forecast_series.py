"""Varied hourly answer-rate series for the forecast benchmark (independent of the sandbox's generator).

Each series is what the library's entry point takes: a DataFrame with integer ``attempted`` and
``connected`` on a tz-aware UTC ``DatetimeIndex`` of hour starts, hours without attempts ABSENT (as the
aggregates API omits them). The shapes are the ones a dialer sees and the sandbox does not make:

* daily curves: business (morning and late-afternoon peaks), consumer (evening peak), flat;
* weekday/weekend effects, Saturday as a forecast target, Sundays closed (no attempts at all);
* answer rates decaying over a campaign's life (list exhaustion), slow upward trends;
* level shifts one to two weeks before the end (a new list, a new caller id);
* outages (whole blocks of hours missing), holidays (a closed weekday), low volume (a few attempts an
  hour, many hours missing);
* dialing hours in the campaign's local time in zones with DST, including the autumn change inside
  the history and the forecast window.

The rate of each hour is a logistic function of the level, the curve, the weekday effect and AR(1)
day-to-day noise; connected ~ Binomial(attempted, rate). Everything is drawn from one
``numpy.random.default_rng(seed)`` per series, so a (spec, seed) pair always gives the same series.

Run ``python bench/forecast_series.py`` to print a one-line summary per series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Weeks of hourly history per series (the fit-time target is stated for 8 weeks).
WEEKS = 8


@dataclass(frozen=True)
class SeriesSpec:
    """One series family; ``end`` is the UTC instant the history ends (exclusive)."""

    name: str
    tz: str = "UTC"
    curve: str = "business"  # business | consumer | flat
    open_hour: int = 8  # local dialing hours [open_hour, close_hour)
    close_hour: int = 20
    base_rate: float = 0.25
    weekend_effect: float = 0.0  # logit shift on Saturday (Sunday: same, unless closed)
    closed_days: tuple[int, ...] = ()  # local weekdays (0 = Monday) with no dialing
    attempts: float = 60.0  # mean attempts per open hour
    decay: float = 0.0  # logit change per day (negative: list exhaustion)
    shift_days_before_end: int | None = None  # level shift this many days before the end
    shift: float = 0.0  # logit size of the shift
    outage_blocks: int = 0  # blocks of 3-30 hours missing
    holidays: int = 0  # weekdays closed (random)
    missing_frac: float = 0.0  # open hours dropped at random (low-volume dialers skip hours)
    day_noise: float = 0.08  # sd of the AR(1) daily logit noise
    hour_noise: float = 0.05  # sd of independent hourly logit noise (beyond binomial)
    end: str = "2026-11-09T00:00:00+00:00"  # a Monday; the autumn US change was 2026-11-01
    extra: dict[str, float] = field(default_factory=dict)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _curve(kind: str, hour: float) -> float:
    """Logit offset of the answer rate at a local hour (0-24)."""
    if kind == "business":
        return 0.35 * math.exp(-((hour - 10.5) ** 2) / 3.0) + 0.25 * math.exp(-((hour - 17.0) ** 2) / 2.0) - 0.2
    if kind == "consumer":
        return 0.55 * math.exp(-((hour - 19.0) ** 2) / 4.0) - 0.25 * math.exp(-((hour - 13.0) ** 2) / 6.0) - 0.1
    return 0.0


def generate(spec: SeriesSpec, seed: int, weeks: int = WEEKS) -> pd.DataFrame:
    """The series of ``spec`` for ``seed``: hourly attempted/connected, absent hours dropped."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    end = pd.Timestamp(spec.end).tz_convert("UTC")
    index = pd.date_range(end - pd.Timedelta(weeks=weeks), end, freq="h", inclusive="left", tz="UTC")
    local = index.tz_convert(spec.tz)
    local_day = local.normalize().tz_localize(None)
    days = pd.Index(local_day.unique())
    day_pos = days.get_indexer(local_day)
    n_days = len(days)

    # AR(1) day-level noise, level shift and decay, in days from the end.
    noise = np.zeros(n_days)
    for d in range(1, n_days):
        noise[d] = 0.6 * noise[d - 1] + rng.normal(0, spec.day_noise)
    days_before_end = (pd.Timestamp(end.tz_convert(spec.tz).date()) - days).days.to_numpy()
    level = _logit(spec.base_rate) + noise + spec.decay * (np.arange(n_days) - n_days)
    if spec.shift_days_before_end is not None:
        level = level + np.where(days_before_end <= spec.shift_days_before_end, spec.shift, 0.0)

    closed = np.zeros(n_days, bool)
    weekday = days.dayofweek.to_numpy()
    for d in spec.closed_days:
        closed |= weekday == d
    if spec.holidays:
        weekdays = np.flatnonzero((weekday < 5) & ~closed)
        closed[rng.choice(weekdays, size=spec.holidays, replace=False)] = True

    hour = (local.hour + local.minute / 60).to_numpy()
    dow = local.dayofweek.to_numpy()
    open_ = (hour >= spec.open_hour) & (hour < spec.close_hour) & ~closed[day_pos]
    curve = np.array([_curve(spec.curve, h + 0.5) for h in hour])
    weekend = np.where(dow >= 5, spec.weekend_effect, 0.0)
    logit = level[day_pos] + curve + weekend + rng.normal(0, spec.hour_noise, len(index))
    rate = 1 / (1 + np.exp(-logit))

    # Attempts follow a mild daily volume curve; low-volume dialers also skip hours.
    volume = spec.attempts * (0.8 + 0.4 * np.sin(np.pi * (hour - spec.open_hour) / max(spec.close_hour - spec.open_hour, 1)))
    attempted = np.where(open_, rng.poisson(np.maximum(volume, 0.1)), 0)
    if spec.missing_frac:
        attempted = np.where(rng.random(len(index)) < spec.missing_frac, 0, attempted)
    for _ in range(spec.outage_blocks):
        start = int(rng.integers(0, len(index) - 24 * 8))  # outages in the history, not the last week
        attempted[start:start + int(rng.integers(3, 31))] = 0
    connected = rng.binomial(attempted, rate)
    frame = pd.DataFrame({"attempted": attempted.astype("int64"), "connected": connected.astype("int64")},
                         index=index.rename("hour"))
    return frame[frame["attempted"] > 0]


#: The series families (each with several seeds in the benchmark).
SPECS: tuple[SeriesSpec, ...] = (
    SeriesSpec("business_utc"),
    SeriesSpec("consumer_utc", curve="consumer", open_hour=10, close_hour=22, base_rate=0.18),
    SeriesSpec("business_ny_dst", tz="America/New_York", weekend_effect=-0.3),
    SeriesSpec("consumer_chicago_dst", tz="America/Chicago", curve="consumer", open_hour=9, close_hour=21,
               base_rate=0.2, weekend_effect=0.25),
    SeriesSpec("closed_sundays", tz="Europe/London", closed_days=(6,), weekend_effect=-0.4),
    SeriesSpec("weekdays_only", tz="Europe/Berlin", closed_days=(5, 6), base_rate=0.3),
    SeriesSpec("saturday_target", tz="America/Denver", weekend_effect=0.5, base_rate=0.22,
               end="2026-11-07T07:00:00+00:00"),
    SeriesSpec("decay", base_rate=0.35, decay=-0.025),
    SeriesSpec("decay_closed_sundays", tz="America/New_York", base_rate=0.32, decay=-0.02, closed_days=(6,)),
    SeriesSpec("level_shift_down", shift_days_before_end=9, shift=-0.6, tz="Europe/Paris"),
    SeriesSpec("level_shift_up", shift_days_before_end=13, shift=0.5, curve="consumer", open_hour=10, close_hour=21),
    SeriesSpec("trend_up", decay=0.01, base_rate=0.2, curve="flat"),
    SeriesSpec("low_volume_missing", attempts=4, missing_frac=0.3, tz="America/Los_Angeles"),
    SeriesSpec("low_volume_consumer", attempts=6, missing_frac=0.2, curve="consumer", open_hour=11, close_hour=21),
    SeriesSpec("outages_holidays", outage_blocks=4, holidays=2, tz="Australia/Sydney",
               end="2026-11-08T13:00:00+00:00"),
    SeriesSpec("high_volume_flat", curve="flat", attempts=300, base_rate=0.12, day_noise=0.05),
    SeriesSpec("noisy_days", day_noise=0.2, base_rate=0.28, weekend_effect=-0.2),
    SeriesSpec("long_hours", open_hour=7, close_hour=23, curve="consumer", tz="America/New_York", attempts=30,
               closed_days=(6,)),
)


def suite(seeds: tuple[int, ...] = (11, 23)) -> list[tuple[str, SeriesSpec, int, pd.DataFrame]]:
    """The benchmark's series: (label, spec, seed, frame), 26 with the default seeds.

    Every family gets the first seed; the eight families a review found weak get every seed.
    """
    weak = {"decay", "decay_closed_sundays", "level_shift_down", "level_shift_up", "low_volume_missing",
            "saturday_target", "closed_sundays", "business_ny_dst"}
    out = []
    for spec in SPECS:
        for seed in seeds if spec.name in weak else seeds[:1]:
            out.append((f"{spec.name}/s{seed}", spec, seed, generate(spec, seed)))
    return out


def main() -> None:
    for label, spec, _, frame in suite():
        rate = frame["connected"].sum() / frame["attempted"].sum()
        print(f"{label:<28} tz={spec.tz:<20} rows={len(frame):>5} attempts/h={frame['attempted'].mean():>7.1f} "
              f"rate={rate:.3f} last={frame.index[-1].isoformat()}")


if __name__ == "__main__":
    main()
