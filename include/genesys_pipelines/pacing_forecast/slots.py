"""The hourly grid the forecast works on: UTC hours, with the campaign's LOCAL hour of day/week and day.

A dialer dials in local hours, so its daily pattern repeats in local time: across a DST change the
same local 09:00 moves by one UTC hour. Every seasonal slot here is computed from the local wall clock
(pandas' tz conversion, so DST is the IANA database's), never from the UTC hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

@dataclass(frozen=True)
class Grid:
    """History plus horizon on one hourly UTC axis; ``n`` hours of history, then ``horizon`` more.

    ``att``/``con``: counts (0 in the horizon and in hours without data); ``hod``: local hour of day
    (0-23), ``how``: local hour of week (0-167, Monday 00:00 = 0), ``day``: local calendar day number.
    """

    index: pd.DatetimeIndex
    n: int
    att: np.ndarray
    con: np.ndarray
    hod: np.ndarray
    how: np.ndarray
    day: np.ndarray
    tz: str

    @property
    def horizon(self) -> int:
        return len(self.index) - self.n


def build(hourly: pd.DataFrame, horizon: int, tz: str = "UTC", end: pd.Timestamp | None = None) -> Grid:
    """Validate ``hourly`` (attempted/connected on a tz-aware UTC hourly index) and put it on a grid.

    ``end``: the instant the history ends (exclusive; default: one hour after the last row), so a
    history whose last hours had no attempts still forecasts the hours after its real end.
    """
    import numpy as np
    import pandas as pd

    missing = {"attempted", "connected"} - set(hourly.columns)
    if missing:
        raise ValueError(f"hourly needs the columns attempted and connected (missing: {', '.join(sorted(missing))})")
    if not isinstance(hourly.index, pd.DatetimeIndex) or hourly.index.tz is None:
        raise ValueError("hourly must have a tz-aware DatetimeIndex of UTC hour starts")
    if len(hourly) == 0:
        raise ValueError("hourly is empty")
    index = hourly.index.tz_convert("UTC")
    if (index != index.floor("h")).any():
        raise ValueError("hourly's index must be hour starts")
    frame = hourly[["attempted", "connected"]].set_axis(index).groupby(level=0).sum().sort_index()
    att_raw = frame["attempted"].to_numpy()
    con_raw = frame["connected"].to_numpy()
    if (att_raw < 0).any() or (con_raw < 0).any():
        raise ValueError("attempted and connected must be >= 0")
    if (con_raw > att_raw).any():
        raise ValueError("connected exceeds attempted in some hours")
    start = frame.index[0]
    stop = frame.index[-1] + pd.Timedelta(hours=1) if end is None else pd.Timestamp(end).tz_convert("UTC")
    if stop <= frame.index[-1]:
        raise ValueError("end must be after the last history hour")
    full = pd.date_range(start, stop + pd.Timedelta(hours=horizon), freq="h", inclusive="left", tz="UTC")
    n = len(full) - horizon
    pos = np.asarray((frame.index - start) // pd.Timedelta(hours=1), dtype=int)
    att = np.zeros(len(full))
    con = np.zeros(len(full))
    att[pos] = att_raw
    con[pos] = con_raw
    local = full.tz_convert(tz)
    hod = local.hour.to_numpy()
    how = local.dayofweek.to_numpy() * 24 + hod
    day = (local.tz_localize(None).normalize() - pd.Timestamp("1970-01-01")).days.to_numpy()
    return Grid(index=full, n=n, att=att, con=con, hod=hod, how=how, day=day, tz=tz)
