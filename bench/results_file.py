"""Where benchmark figures go: ``bench/results/<name>.json``, stamped with machine and time."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(file_name: str, report: dict[str, Any]) -> Path:
    """Write ``report`` plus the machine it ran on and when; print and return the path."""
    stamped = {
        **report,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / file_name
    out.write_text(json.dumps(stamped, indent=2, default=str))
    print(f"written {out}")
    return out
