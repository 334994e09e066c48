"""Run ``tpchgen-cli`` (the Rust TPC-H generator from PyPI) to produce the source system's data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

TPCH_TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")


class TpchGenerationError(RuntimeError):
    """tpchgen-cli is missing or failed."""


def tpchgen_executable() -> str:
    """The ``tpchgen-cli`` next to this interpreter (a venv's bin/), else the one on PATH."""
    beside_python = Path(sys.executable).with_name("tpchgen-cli")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("tpchgen-cli")
    if not found:
        raise TpchGenerationError(
            "tpchgen-cli not found; install the project (pip install -e .) which depends on it"
        )
    return found


def generate_tpch(scale_factor: float, output_dir: Path) -> Path:
    """Generate every TPC-H table as Parquet into ``output_dir`` (skipped if already complete).

    Returns ``output_dir``. The files double as the test oracle's input: DuckDB runs the
    official TPC-H queries on exactly these files.
    """
    if scale_factor <= 0:
        raise ValueError(f"scale factor must be positive, got {scale_factor}")
    output_dir.mkdir(parents=True, exist_ok=True)
    marker = output_dir / "_COMPLETE"
    if marker.exists() and marker.read_text().strip() == str(scale_factor):
        return output_dir
    cmd = [
        tpchgen_executable(),
        "parquet",
        "--scale-factor",
        str(scale_factor),
        "--output-dir",
        str(output_dir),
        "--overwrite",
        "--quiet",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TpchGenerationError(
            f"tpchgen-cli failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    missing = [t for t in TPCH_TABLES if not (output_dir / f"{t}.parquet").exists()]
    if missing:
        raise TpchGenerationError(f"tpchgen-cli did not write {missing} in {output_dir}")
    marker.write_text(str(scale_factor))
    return output_dir
