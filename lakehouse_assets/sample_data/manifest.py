"""The sample-data manifest: what the generator landed, and how far it moved the calendar.

One small JSON file at the landing root (``_sample_data.json``; the ``_`` keeps it out of every
source's listing). The partition calendar reads its first landed date as the default start,
and the live feed reads it to know which TPC-H day comes next and where it lands.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lakehouse_assets.partitions import SAMPLE_DATA_MANIFEST


@dataclass(frozen=True)
class SampleDataManifest:
    """TPC-H source dates ``first_source_date..last_source_date`` landed ``shift_days`` later."""

    scale_factor: float
    seed: int
    shift_days: int
    first_source_date: dt.date
    last_source_date: dt.date

    @property
    def first_landed_date(self) -> dt.date:
        return self.first_source_date + dt.timedelta(days=self.shift_days)

    @property
    def last_landed_date(self) -> dt.date:
        return self.last_source_date + dt.timedelta(days=self.shift_days)

    def landed_date(self, source_date: dt.date) -> dt.date:
        return source_date + dt.timedelta(days=self.shift_days)

    def source_date(self, landed_date: dt.date) -> dt.date:
        return landed_date - dt.timedelta(days=self.shift_days)

    def extended_to(self, source_date: dt.date) -> SampleDataManifest:
        return replace(self, last_source_date=max(self.last_source_date, source_date))

    def to_json(self) -> str:
        fields = asdict(self) | {
            "first_landed_date": self.first_landed_date,
            "last_landed_date": self.last_landed_date,
        }
        return json.dumps(
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()},
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SampleDataManifest:
        raw = json.loads(text)
        return cls(
            scale_factor=float(raw["scale_factor"]),
            seed=int(raw["seed"]),
            shift_days=int(raw["shift_days"]),
            first_source_date=dt.date.fromisoformat(raw["first_source_date"]),
            last_source_date=dt.date.fromisoformat(raw["last_source_date"]),
        )


def manifest_path(landing_root: Path) -> Path:
    return landing_root / SAMPLE_DATA_MANIFEST


def read_manifest(landing_root: Path) -> SampleDataManifest | None:
    path = manifest_path(landing_root)
    return SampleDataManifest.from_json(path.read_text()) if path.exists() else None


def write_manifest(landing_root: Path, manifest: SampleDataManifest) -> None:
    """Replace the manifest atomically (a reader never sees half a file)."""
    path = manifest_path(landing_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    staged.write_text(manifest.to_json() + "\n")
    os.replace(staged, path)


def merge_landing(
    existing: SampleDataManifest | None, landed: SampleDataManifest
) -> SampleDataManifest:
    """The manifest after landing ``landed`` on top of ``existing``.

    Landing the same history twice is fine (files are left alone); landing it at another shift
    or scale would put a second copy of TPC-H on other dates, so it is refused.
    """
    if existing is None:
        return landed
    for name in ("shift_days", "scale_factor", "seed"):
        if getattr(existing, name) != getattr(landed, name):
            raise ValueError(
                f"the landing zone already holds sample data with {name}="
                f"{getattr(existing, name)} (see {SAMPLE_DATA_MANIFEST}); landing "
                f"{name}={getattr(landed, name)} would land TPC-H twice. Use a new "
                "LAKEHOUSE_ROOT, or `make clean`."
            )
    return replace(
        existing,
        first_source_date=min(existing.first_source_date, landed.first_source_date),
        last_source_date=max(existing.last_source_date, landed.last_source_date),
    )
