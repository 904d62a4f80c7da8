"""Pacing recommendation in the campaign's real fields (genesys-api.md §3e), bounded and explained.

No API sets an "answer rate": the dialer paces itself from ``maxCallsPerAgent(Decimal)`` (power and
predictive), ``outboundLineCount`` (the knob of agentless campaigns) and the compliance target
``abandonRate``, which is a PERCENTAGE (3 means 3 %). The other dialing modes (preview, progressive,
external) get a forecast but no recommendation.

Power / predictive — the abandon model: in an hour with ``N`` scheduled agents and a dial ratio of
``k`` calls per agent, ``L = N·k`` calls are in flight and the connects are ``X ~ Binomial(L, p)``;
every connect beyond the ``N`` agents is abandoned, so the expected abandon percentage is
``100 · E[max(X − N, 0)] / E[X]`` (a decimal ``L`` interpolates between ⌊L⌋ and ⌈L⌉). ``p`` is the
UPPER bound of the forecast interval: more answers than expected is what abandons calls. The largest
``k`` whose abandon percentage stays at or under the target is found per dialing hour, and the most
constraining hour wins (one setting covers the whole period). The pooled model ignores talk time
(agents still busy), which is why the per-run step bound exists.

Agentless — no agents: ``outboundLineCount`` scales with history rate ÷ forecast rate, so the expected
connects per hour stay where they were.

Every change is bounded (:func:`bound`): toward more aggressive dialing at most ``max_relative_step``
per run, never above the absolute ceiling even when the current value is (then straight down to it).
``abandonRate`` is lowered to the target when above it, never raised. A negative or non-numeric current
value is a payload error (:class:`MalformedCampaign`), never a number to bound from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.pacing_forecast.params import PacingParams

AGENT_MODES = ("power", "predictive")
LINE_MODES = ("agentless",)
FIELD_CALLS = "maxCallsPerAgentDecimal"
FIELD_LINES = "outboundLineCount"
FIELD_ABANDON = "abandonRate"
#: More agents than this on one campaign's queue is not a real answer (and the abandon model's cost grows
#: with calls in flight: a hostile 10**9 would exhaust memory).
MAX_AGENTS = 20_000


def expected_abandon_pct(lines: float, agents: int, p: float) -> float:
    """Expected abandoned share of connects, in PERCENT, for ``lines`` calls in flight over ``agents``."""
    from scipy.stats import binom

    if lines <= 0 or p <= 0:
        return 0.0

    def moments(n: int) -> tuple[float, float]:
        if n <= agents:
            return 0.0, n * p
        x = range(agents + 1, n + 1)
        pmf = binom.pmf(list(x), n, p)
        return float(sum((xi - agents) * w for xi, w in zip(x, pmf, strict=True))), n * p

    low, high = math.floor(lines), math.ceil(lines)
    frac = lines - low
    ab_low, con_low = moments(low)
    ab_high, con_high = moments(high)
    abandoned = (1 - frac) * ab_low + frac * ab_high
    connected = (1 - frac) * con_low + frac * con_high
    return 100.0 * abandoned / connected if connected > 0 else 0.0


def max_ratio_for_target(agents: int, p: float, target_pct: float, low: float, high: float) -> float:
    """The largest calls-per-agent ratio in [low, high] whose expected abandon % is ≤ ``target_pct``."""
    if expected_abandon_pct(agents * high, agents, p) <= target_pct:
        return high
    if expected_abandon_pct(agents * low, agents, p) > target_pct:
        return low
    lo, hi = low, high
    for _ in range(40):  # abandon % grows with the ratio: bisection converges to 1e-12 of the range
        mid = (lo + hi) / 2
        if expected_abandon_pct(agents * mid, agents, p) <= target_pct:
            lo = mid
        else:
            hi = mid
    return lo


class MalformedCampaign(ValueError):  # noqa: N818 - a payload error, named after what it is
    """A campaign read lacking or breaking a field the pacing write depends on: nothing is written."""


def pacing_number(campaign: Mapping[str, Any], key: str, *, required: bool = False) -> float | None:
    """``campaign[key]`` as a finite, non-negative number (None when absent and not ``required``);
    negative, non-numeric (a string, a bool, an object) or non-finite values raise :class:`MalformedCampaign`:
    a negative ``abandonRate`` would otherwise count as "within target" and be written back."""
    value = campaign.get(key)
    if value is None:
        if required:
            raise MalformedCampaign(f"campaign {campaign.get('id')}: {key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise MalformedCampaign(f"campaign {campaign.get('id')}: {key} is {value!r}, not a non-negative number")
    return float(value)


def check_campaign_read(campaign: Any, fields: Sequence[str] = ()) -> dict[str, Any]:
    """A campaign read the pacing write may start from: an object with a positive integer ``version``,
    its ``dialingMode``, and every pacing field in ``fields`` a valid number (raises :class:`MalformedCampaign`)."""
    if not isinstance(campaign, Mapping):
        raise MalformedCampaign(f"campaign read is {type(campaign).__name__}, not a Campaign object")
    version = campaign.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedCampaign(f"campaign {campaign.get('id')}: version is {version!r}, not a positive integer")
    if not campaign.get("dialingMode"):
        raise MalformedCampaign(f"campaign {campaign.get('id')}: dialingMode is missing")
    for key in fields:
        if key == FIELD_CALLS:
            if campaign.get(FIELD_CALLS) is None:
                pacing_number(campaign, "maxCallsPerAgent", required=True)
            else:
                pacing_number(campaign, FIELD_CALLS)
        else:
            pacing_number(campaign, key, required=True)
    return dict(campaign)


def bound(current: float | None, target: float, step: float, low: float, high: float) -> tuple[float, list[str]]:
    """``target`` bounded by the step from ``current`` and by the absolute range [low, high].

    Higher means more aggressive dialing (more calls per agent, more lines). A move toward MORE
    aggressive is never more than ``step`` (relative) above ``current``; the result is never above
    ``high``; when ``current`` is above ``high`` the result is ``high`` (straight down: less aggressive at
    once); otherwise a move down is at most ``step`` below ``current``; a result
    under ``low`` is raised toward ``low``, but by at most the step (that move is more aggressive).
    """
    notes: list[str] = []
    value = target
    usable = current is not None and current > 0
    if usable and current > high:  # type: ignore[operator]
        # Above the ceiling: straight down to it (less aggressive at once); the step applies from there.
        notes.append(f"absolute bound: current {current:g} is above {high:g}: set to {high:g}")
        return high, notes
    if usable:
        up, down = current * (1 + step), current * (1 - step)  # type: ignore[operator]
        if value > up:
            notes.append(f"step bound: not above {up:.4g} (current {current:g} + {step:.0%})")
            value = up
        elif value < down:
            notes.append(f"step bound: not below {down:.4g} (current {current:g} − {step:.0%})")
            value = down
    if value > high:
        notes.append(f"absolute bound: not above {high:g}")
        value = high
    if value < low:
        floor = min(low, current * (1 + step)) if usable else low  # type: ignore[operator]
        if floor < low:
            notes.append(f"absolute bound: toward {low:g} by at most the step (current {current:g})")
        else:
            notes.append(f"absolute bound: not below {low:g}")
        value = max(value, floor)
    return value, notes


def _current_calls(campaign: Mapping[str, Any]) -> float | None:
    value = pacing_number(campaign, FIELD_CALLS)
    return pacing_number(campaign, "maxCallsPerAgent") if value is None else value


def _relative(before: float | None, after: float) -> float:
    if before in (None, 0):
        return 1.0
    return abs(after - before) / abs(before)  # type: ignore[operator]


def _abandon(campaign: Mapping[str, Any], target: float) -> tuple[float, str]:
    current = pacing_number(campaign, FIELD_ABANDON)  # negative / non-numeric: MalformedCampaign
    if current is None:
        return target, f"abandonRate unset: set to the compliance target {target:g} %"
    if float(current) > target:
        return target, f"abandonRate {float(current):g} % is above the compliance target: lowered to {target:g} %"
    return float(current), f"abandonRate {float(current):g} % is within the compliance target {target:g} %: kept"


def recommend(
    campaign: Mapping[str, Any],
    forecast: Mapping[str, Any],
    agents: Sequence[float],
    typical_attempts: Sequence[float],
    params: PacingParams,
    history_rate: float | None = None,
) -> dict[str, Any]:
    """The recommendation for one campaign (JSON-safe), computed from its CURRENT fields.

    ``forecast`` has ``hours``, ``mean``, ``upper`` (rates); ``agents`` and ``typical_attempts`` are per
    forecast hour. Pure: re-run it on a re-read campaign after a 409 to recompute from fresh values.
    """
    mode = campaign.get("dialingMode")
    base: dict[str, Any] = {
        "campaign_id": campaign.get("id"),
        "dialing_mode": mode,
        "version": campaign.get("version"),
        "field": None,
        "before": {},
        "after": {},
        "relative_change": 0.0,
        "should_apply": False,
        "explanation": [],
    }
    dialing = [i for i, a in enumerate(typical_attempts) if a > 0]
    for count in agents:  # capacity comes from API reads (WFM, idleAgents): a hostile one must not reach math
        if not isinstance(count, int | float) or isinstance(count, bool) or not 0 <= count <= MAX_AGENTS:
            raise MalformedCampaign(f"campaign {campaign.get('id')}: agent capacity {count!r} is not a number "
                                    f"in [0, {MAX_AGENTS}]")
    if mode in AGENT_MODES:
        return _recommend_calls(campaign, forecast, agents, dialing, params, base)
    if mode in LINE_MODES:
        return _recommend_lines(campaign, forecast, typical_attempts, dialing, params, history_rate, base)
    base.update(
        status="not_applicable",
        explanation=[
            f"dialing mode {mode!r}: maxCallsPerAgent applies to power/predictive and outboundLineCount is "
            "the knob of agentless campaigns; forecast only"
        ],
    )
    return base


def _recommend_calls(
    campaign: Mapping[str, Any],
    forecast: Mapping[str, Any],
    agents: Sequence[float],
    dialing: list[int],
    params: PacingParams,
    base: dict[str, Any],
) -> dict[str, Any]:
    target = params.abandon_rate_target
    current = _current_calls(campaign)
    abandon_after, abandon_note = _abandon(campaign, target)
    before = {FIELD_CALLS: current, FIELD_ABANDON: campaign.get(FIELD_ABANDON)}
    staffed = [i for i in dialing if agents[i] >= 0.5]
    lines: list[str] = []
    if not staffed:
        after_calls = current
        status = "no_capacity"
        lines.append("no forecast hour has both dialing activity and at least one agent: ratio unchanged")
    else:
        per_hour = []
        for i in staffed:
            n = max(1, round(agents[i]))
            p = min(1.0, max(0.01, float(forecast["upper"][i])))
            k = max_ratio_for_target(n, p, target, params.max_calls_per_agent_min, params.max_calls_per_agent_max)
            per_hour.append((k, i, n, p))
        k_star, hour, n, p = min(per_hour)
        lines.append(
            f"most constraining hour {forecast['hours'][hour]}: {n} agents, answer rate upper bound {p:.3f} → "
            f"largest ratio with expected abandon ≤ {target:g} % is {k_star:.3f} calls/agent "
            f"(expected abandon {expected_abandon_pct(n * k_star, n, p):.2f} %; pooled binomial model)"
        )
        bounded, notes = bound(current, k_star, params.max_relative_step,
                               params.max_calls_per_agent_min, params.max_calls_per_agent_max)
        lines += notes
        # Round DOWN at 2 decimals: rounding up could cross the abandon target.
        after_calls = math.floor(bounded * 100 + 1e-9) / 100
        status = "change" if current is None or abs(after_calls - current) > 1e-9 else "no_change"
        base["target_unbounded"] = round(k_star, 4)
    lines.append(abandon_note)
    relative = 0.0 if after_calls is None else _relative(current, after_calls)
    abandon_now = pacing_number(campaign, FIELD_ABANDON)
    abandon_changed = abandon_now is None or abs(abandon_after - abandon_now) > 1e-9
    should_apply = (status == "change" and relative >= params.min_change) or abandon_changed
    if status == "change" and relative < params.min_change:
        lines.append(f"change of {relative:.1%} is under min_change {params.min_change:.1%}: not worth a write")
    after = {FIELD_CALLS: after_calls, FIELD_ABANDON: abandon_after}
    if should_apply and status != "change":
        status = "change"
    base.update(field=FIELD_CALLS, before=before, after=after, relative_change=round(relative, 6),
                should_apply=should_apply, status=status, explanation=lines)
    return base


def _recommend_lines(
    campaign: Mapping[str, Any],
    forecast: Mapping[str, Any],
    typical_attempts: Sequence[float],
    dialing: list[int],
    params: PacingParams,
    history_rate: float | None,
    base: dict[str, Any],
) -> dict[str, Any]:
    lines_now = pacing_number(campaign, FIELD_LINES)
    current = None if lines_now is None else campaign.get(FIELD_LINES)
    before = {FIELD_LINES: current}
    weights = [typical_attempts[i] for i in dialing]
    lines: list[str] = []
    if not dialing or not history_rate or current is None or sum(weights) == 0:
        base.update(status="no_change", field=FIELD_LINES, before=before, after=before,
                    explanation=["no dialing hours, history rate or current line count: lines unchanged"])
        return base
    forecast_rate = sum(forecast["mean"][i] * w for i, w in zip(dialing, weights, strict=True)) / sum(weights)
    forecast_rate = max(forecast_rate, 0.01)
    target = current * history_rate / forecast_rate
    lines.append(
        f"lines × history rate {history_rate:.3f} ÷ forecast rate {forecast_rate:.3f} (attempt-weighted over "
        f"{len(dialing)} dialing hours) = {current} × {history_rate / forecast_rate:.3f} = {target:.2f}"
    )
    bounded, notes = bound(float(current), target, params.max_relative_step,
                           params.outbound_line_count_min, params.outbound_line_count_max)
    lines += notes
    # Whole lines, rounded toward the current value so the step bound still holds.
    after_lines = math.floor(bounded) if bounded > current else math.ceil(bounded)
    relative = _relative(float(current), float(after_lines))
    should_apply = after_lines != current and relative >= params.min_change
    if after_lines != current and not should_apply:
        lines.append(f"change of {relative:.1%} is under min_change {params.min_change:.1%}: not worth a write")
    base.update(field=FIELD_LINES, before=before, after={FIELD_LINES: after_lines},
                status="change" if after_lines != current else "no_change", target_unbounded=round(target, 4),
                relative_change=round(relative, 6), should_apply=should_apply, explanation=lines)
    return base


def apply_to_campaign(campaign: Mapping[str, Any], recommendation: Mapping[str, Any]) -> dict[str, Any]:
    """The full campaign body with the recommended pacing fields set (``version`` kept as read)."""
    body = dict(campaign)
    for key, value in (recommendation.get("after") or {}).items():
        if value is not None:
            body[key] = value
    if recommendation.get("field") == FIELD_CALLS and body.get(FIELD_CALLS) is not None:
        # The integer field follows the decimal one (the API does the same with the query flag).
        body["maxCallsPerAgent"] = max(1, math.floor(float(body[FIELD_CALLS])))
    return body


def is_applied(campaign: Mapping[str, Any], recommendation: Mapping[str, Any]) -> bool:
    """True when ``campaign`` already holds every recommended value (a lost write that landed)."""
    for key, value in (recommendation.get("after") or {}).items():
        if value is None:
            continue
        current = campaign.get(key)
        if current is None or abs(float(current) - float(value)) > 1e-6:
            return False
    return True


def pacing_values(campaign: Mapping[str, Any], field: str | None) -> dict[str, Any]:
    """The campaign's values of the fields a recommendation on ``field`` reads (its ``before``)."""
    if field == FIELD_CALLS:
        return {FIELD_CALLS: _current_calls(campaign), FIELD_ABANDON: campaign.get(FIELD_ABANDON)}
    if field == FIELD_LINES:
        return {FIELD_LINES: campaign.get(FIELD_LINES)}
    return {}


def _same(values: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        current = values.get(key)
        if (value is None) != (current is None):
            return False
        if value is not None and abs(float(current) - float(value)) > 1e-6:
            return False
    return True


def window_baseline(campaign: Mapping[str, Any], recorded: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The campaign as an earlier run of the SAME window saw it, or None to use it as it is now.

    ``recorded`` is what that run published: ``field``, ``before`` (the values it bounded from),
    ``target`` (what it applied or proposed), ``version`` and ``dialing_mode``. When the campaign still
    holds ``before`` (nothing written) or holds ``target`` (our own write), re-running the window must
    bound from ``before`` again: bounding from our own result would add another ``max_relative_step``
    on every re-run. Any other value means someone else moved the fields: start from theirs.
    """
    if not recorded or not recorded.get("field") or recorded.get("dialing_mode") != campaign.get("dialingMode"):
        return None
    before = dict(recorded.get("before") or {})
    current = pacing_values(campaign, recorded["field"])
    if not before or set(before) != set(current):
        return None
    target = {k: v for k, v in (recorded.get("target") or {}).items() if v is not None}
    if not (_same(current, before) or (target and is_applied(campaign, {"after": target}))):
        return None
    return {**campaign, **before, "version": recorded.get("version", campaign.get("version"))}
