"""The whole Definitions against the reviewed snapshot: any change to the graph shows here.

After an intended change, ``make snapshot`` rewrites the file; review its diff.
"""

from __future__ import annotations

import difflib
import json

from .definitions_snapshot import SNAPSHOT_PATH, definitions_snapshot, render


def test_definitions_match_the_reviewed_snapshot():
    current = render(definitions_snapshot())
    recorded = SNAPSHOT_PATH.read_text()
    if current != recorded:
        diff = "".join(
            difflib.unified_diff(
                recorded.splitlines(keepends=True),
                current.splitlines(keepends=True),
                "snapshots/definitions.json (recorded)",
                "the Definitions now",
                n=2,
            )
        )
        raise AssertionError(
            "The Definitions changed; if intended, run `make snapshot` and review the diff.\n"
            + diff[:20_000]
        )


def test_the_snapshot_records_what_a_user_sees():
    """The snapshot is not vacuous: it holds every layer, blocking checks, conditions, jobs."""
    recorded = json.loads(SNAPSHOT_PATH.read_text())
    groups = {a["group"] for a in recorded["assets"].values()}
    assert groups >= {"bronze", "silver", "gold", "features", "vector_index", "monitoring"}
    blocking = [c for a in recorded["assets"].values() for c in a["checks"].values()]
    assert any(c["blocking"] for c in blocking) and not all(c["blocking"] for c in blocking)
    assert recorded["automation_conditions"]
    assert {"lakehouse_daily_job", "ingest_bronze_job"} <= set(recorded["jobs"])
    assert "landing_sensor" in recorded["sensors"]
