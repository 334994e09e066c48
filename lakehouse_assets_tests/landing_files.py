"""Write hand-made landing files for tests (the way a source system would land them)."""

from __future__ import annotations

import json
from pathlib import Path


def land(landing_root: Path, source: str, day: str, name: str, content: bytes | str) -> Path:
    """Write ``content`` to ``<landing>/<source>/<day>/<name>`` and return the path."""
    path = landing_root / source / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def jsonl(*records: dict | str) -> str:
    """JSON lines; strings are written verbatim (for malformed lines)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def uri(path: Path) -> str:
    """How the lakehouse records a landed file (``file:/...`` with percent-escapes)."""
    return path.resolve().as_uri().replace("file:///", "file:/", 1)


def order(key: int, day: str = "1992-01-02", **extra: object) -> dict:
    record = {
        "o_orderkey": key,
        "o_custkey": 7,
        "o_orderstatus": "O",
        "o_totalprice": 100.25,
        "o_orderdate": day,
        "o_orderpriority": "1-URGENT",
        "o_clerk": "Clerk#1",
        "o_shippriority": 0,
        "o_comment": "ok",
    }
    record.update(extra)
    return record


def line(order_key: int, number: int, day: str = "1992-01-02", **extra: object) -> dict:
    record = {
        "l_orderkey": order_key,
        "l_partkey": 11,
        "l_suppkey": 3,
        "l_linenumber": number,
        "l_quantity": 5,
        "l_extendedprice": 500.0,
        "l_discount": 0.05,
        "l_tax": 0.02,
        "l_returnflag": "N",
        "l_linestatus": "O",
        "l_shipdate": "1992-01-10",
        "l_commitdate": "1992-01-20",
        "l_receiptdate": "1992-01-15",
        "l_shipinstruct": "NONE",
        "l_shipmode": "MAIL",
        "l_comment": "ok",
    }
    record.update(extra)
    return record
