"""Where benchmark figures go: ``bench/results/<name>.json``, stamped with machine and time."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
VERSIONED_PACKAGES = ("dagster", "pyspark", "delta-spark", "deltalake", "duckdb", "pandera")


def machine_info() -> dict[str, Any]:
    """CPU model and count, memory, OS, Python, Java and the engine package versions."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        info["cpu_model"] = models[0] if models else None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        info["memory_gib"] = round(total_kb / 1024**2, 1)
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        info["java"] = java.stderr.splitlines()[0] if java.stderr else None
    except OSError:
        info["java"] = None
    info["packages"] = {}
    for package in VERSIONED_PACKAGES:
        try:
            info["packages"][package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return info


def write_results(file_name: str, report: dict[str, Any]) -> Path:
    """Write ``report`` plus the machine it ran on and when; print and return the path."""
    stamped = {
        **report,
        "machine": machine_info(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / file_name
    out.write_text(json.dumps(stamped, indent=2, default=str))
    print(f"written {out}")
    return out
