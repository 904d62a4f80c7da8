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


def attribute_connected(att: np.ndarray, con: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """``con`` with no hour above its attempts. Genesys attributes each metric to the interval its event
    happened in: a call dialled at 10:59 and answered at 11:00 counts as attempted at 10 and connected at
    11, so an hour of real analytics data may hold more connections than attempts. The excess goes back to
    the hour just before (where those calls were dialled) as far as that hour has attempts left over; what
    is still left (no such hour) is dropped, so every hour's answer rate stays within [0, 1]. (More
    connections than attempts over the whole history is refused by :func:`build`.)"""
    import numpy as np
    import pandas as pd

    out = np.asarray(con, dtype=float).copy()
    att = np.asarray(att, dtype=float)
    for i in np.flatnonzero(out > att):
        excess = out[i] - att[i]
        out[i] = att[i]
        if i > 0 and index[i] - index[i - 1] == pd.Timedelta(hours=1):
            out[i - 1] += min(excess, max(att[i - 1] - out[i - 1], 0.0))
    return out


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
    if con_raw.sum() > att_raw.sum():  # no attribution explains that: the columns are wrong
        raise ValueError("connected exceeds attempted over the whole history (swapped or wrong columns?)")
    con_raw = attribute_connected(att_raw, con_raw, frame.index)
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
