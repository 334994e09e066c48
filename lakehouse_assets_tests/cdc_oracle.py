"""An independent, plain-Python statement of the customer CDC semantics (the test oracle).

It applies events one at a time in sequence order, the way the docs describe them, so the
Spark implementation (window functions over all events of a key) is checked against a
different formulation, not against itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lakehouse_assets.sample_data.landing import daily_file

TRACKED = ("name", "address", "nation_id", "phone", "market_segment")
UNTRACKED = ("account_balance", "comment")


@dataclass(frozen=True)
class Event:
    """One customer change event (the business fields a source sends)."""

    op: str | None
    seq: int | None
    key: int | None
    ts: dt.datetime | None
    name: str = "n"
    address: str = "a"
    nation_id: int = 1
    phone: str = "p"
    market_segment: str = "BUILDING"
    account_balance: Decimal = Decimal("0.00")
    comment: str = "c"

    def content(self) -> tuple[Any, ...]:
        return (self.op, self.ts, *(getattr(self, c) for c in TRACKED + UNTRACKED))

    def tracked(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in TRACKED)

    def untracked(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in UNTRACKED)


@dataclass
class CdcTables:
    """Expected tables: SCD1 rows by key, SCD2 rows, and the quarantine reasons by event."""

    scd1: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    scd2: set[tuple[Any, ...]] = field(default_factory=set)
    quarantined: dict[Event, str] = field(default_factory=dict)


def quarantine_reason(event: Event) -> str | None:
    if event.key is None:
        return "null_customer_id"
    if event.seq is None:
        return "null_sequence_num"
    if event.ts is None:
        return "null_event_ts"
    if event.op not in ("c", "u", "d"):
        return "unknown_op"
    return None


def apply_events(events: list[Event]) -> CdcTables:
    """Apply ``events`` (any order) at once: the reference answer."""
    out = CdcTables()
    valid: list[Event] = []
    for event in events:
        reason = quarantine_reason(event)
        if reason:
            out.quarantined[event] = reason
        else:
            valid.append(event)
    contents: dict[tuple[int, int], set[tuple[Any, ...]]] = defaultdict(set)
    for event in valid:
        contents[(event.key, event.seq)].add(event.content())
    by_key: dict[int, dict[int, Event]] = defaultdict(dict)
    for event in valid:
        if len(contents[(event.key, event.seq)]) > 1:
            out.quarantined[event] = "conflicting_duplicate_sequence"
        else:
            by_key[event.key].setdefault(event.seq, event)  # exact duplicates collapse
    for key, by_seq in by_key.items():
        _apply_key(key, [by_seq[s] for s in sorted(by_seq)], out)
    return out


def _apply_key(key: int, events: list[Event], out: CdcTables) -> None:
    open_version: dict[str, Any] | None = None

    def close(at: Event) -> None:
        v = open_version
        out.scd2.add(
            (key, *v["tracked"], *v["untracked"], v["from"], at.ts, False, v["start"], at.seq)
        )

    for event in events:
        if event.op == "d":
            if open_version is not None:
                close(event)
                open_version = None
            continue
        if open_version is not None and open_version["tracked"] == event.tracked():
            open_version.update(untracked=event.untracked(), last=event.seq, last_ts=event.ts)
            continue
        if open_version is not None:
            close(event)
        open_version = {
            "tracked": event.tracked(),
            "untracked": event.untracked(),
            "from": event.ts,
            "start": event.seq,
            "last": event.seq,
            "last_ts": event.ts,
        }
    if open_version is not None:
        v = open_version
        out.scd2.add((key, *v["tracked"], *v["untracked"], v["from"], None, True, v["start"], None))
        out.scd1[key] = (*v["tracked"], *v["untracked"], v["last_ts"], v["last"])


def landed_events(landing, first: dt.date, last: dt.date) -> list[Event]:
    """The change events as landed, read with plain json (independent of Spark)."""
    events = []
    for n in range((last - first).days + 1):
        path = daily_file(landing, "customer_events", first + dt.timedelta(days=n))
        for line in path.read_text().splitlines():
            r = json.loads(line)
            events.append(
                Event(
                    r["op"],
                    r["sequence_num"],
                    r["c_custkey"],
                    dt.datetime.fromisoformat(r["event_ts"]),
                    name=r["c_name"].strip(),
                    address=r["c_address"].strip(),
                    nation_id=r["c_nationkey"],
                    phone=r["c_phone"].strip(),
                    market_segment=r["c_mktsegment"].strip(),
                    account_balance=Decimal(str(r["c_acctbal"])).quantize(Decimal("0.01")),
                    comment=r["c_comment"].strip(),
                )
            )
    return events
