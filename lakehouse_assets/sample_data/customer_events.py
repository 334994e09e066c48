"""Customer change events (CDC) generated from the TPC-H customer table.

Day one inserts every customer. Afterwards, each day a seeded random draw updates or deletes a
few customers. Only customers that never place an order (TPC-H guarantees
``o_custkey % 3 != 0``) change, so the official TPC-H answers computed on the raw files stay
the truth for every order-level query, while the change stream still exercises SCD1/SCD2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

MARKET_SEGMENTS = ("AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY")
UPDATE_PROBABILITY = 0.002  # per eligible customer per day
DELETE_PROBABILITY = 0.0002

EVENT_COLUMNS = (
    "op",
    "sequence_num",
    "event_ts",
    "c_custkey",
    "c_name",
    "c_address",
    "c_nationkey",
    "c_phone",
    "c_acctbal_cents",
    "c_mktsegment",
    "c_comment",
    "landing_date",
)


def customer_change_events(
    customers: pd.DataFrame, days: Sequence[dt.date], seed: int
) -> pd.DataFrame:
    """Change events for ``days`` (sorted), one row per event, in sequence order.

    ``customers`` has the TPC-H customer columns with ``c_acctbal`` as integer cents in
    ``c_acctbal_cents``. Deterministic for a given (customers, days, seed).
    """
    if not days:
        return pd.DataFrame(columns=list(EVENT_COLUMNS))
    state = customers.sort_values("c_custkey").reset_index(drop=True).copy()
    alive = np.ones(len(state), dtype=bool)
    eligible = (state["c_custkey"].to_numpy() % 3) == 0
    frames = [_events(state, "c", days[0], start_seq=1)]
    next_seq = len(state) + 1
    for day in days[1:]:
        rng = np.random.default_rng([seed, day.toordinal()])
        draw = rng.random(len(state))
        candidates = eligible & alive
        updated = candidates & (draw < UPDATE_PROBABILITY)
        deleted = (
            candidates
            & (draw >= UPDATE_PROBABILITY)
            & (draw < UPDATE_PROBABILITY + DELETE_PROBABILITY)
        )
        if updated.any():
            idx = np.flatnonzero(updated)
            delta = rng.integers(-50_000, 50_000, size=len(idx))
            cents = state.loc[idx, "c_acctbal_cents"].to_numpy() + delta
            state.loc[idx, "c_acctbal_cents"] = np.clip(cents, -99_999, 999_999)
            state.loc[idx, "c_mktsegment"] = rng.choice(MARKET_SEGMENTS, size=len(idx))
        changed = np.flatnonzero(updated | deleted)
        if len(changed):
            ops = np.where(deleted[changed], "d", "u")
            frame = _events(state.iloc[changed], ops, day, start_seq=next_seq)
            frames.append(frame)
            next_seq += len(changed)
        alive &= ~deleted
    return pd.concat(frames, ignore_index=True)[list(EVENT_COLUMNS)]


def _events(rows: pd.DataFrame, op: str | np.ndarray, day: dt.date, start_seq: int) -> pd.DataFrame:
    events = rows.copy()
    events.insert(0, "op", op)
    events.insert(1, "sequence_num", np.arange(start_seq, start_seq + len(rows), dtype=np.int64))
    # Spread events over the day so event time and sequence agree.
    seconds = np.linspace(0, 86_399, num=len(rows), dtype=np.int64) if len(rows) else []
    midnight = pd.Timestamp(day)
    events.insert(2, "event_ts", midnight + pd.to_timedelta(seconds, unit="s"))
    events["landing_date"] = day.isoformat()
    return events
