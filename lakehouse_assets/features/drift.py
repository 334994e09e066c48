"""Feature drift between two snapshots: mean, standard deviation and PSI. Pure numpy.

PSI (population stability index) bins the reference snapshot by its deciles and compares the
share of each snapshot in each bin: sum((current% - reference%) * ln(current% / reference%)).
The usual reading: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 significant shift (the
threshold the warning check uses). Missing values (e.g. days since the last purchase of a
customer who never ordered) are a bin of their own, so a change in how many are missing is
drift too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

PSI_ALERT_THRESHOLD = 0.2
DEFAULT_BINS = 10
# An empty bin would make ln(current/reference) infinite; a tiny share keeps PSI finite.
EMPTY_BIN_SHARE = 1e-4


def _present(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def bin_edges(reference: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior edges at the reference's quantiles (duplicates removed for lumpy data)."""
    present = _present(reference)
    if present.size == 0:
        return np.array([])
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(quantiles)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` per bin (``len(edges) + 1`` bins, then one for missing values)."""
    if values.size == 0:
        return np.zeros(len(edges) + 2)
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1
    )
    return np.append(counts, missing.sum()) / values.size


def population_stability_index(
    reference: np.ndarray, current: np.ndarray, bins: int = DEFAULT_BINS
) -> float:
    """PSI of ``current`` against ``reference`` (0 = identical distributions)."""
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = bin_edges(reference, bins)
    expected = np.maximum(bin_shares(reference, edges), EMPTY_BIN_SHARE)
    actual = np.maximum(bin_shares(current, edges), EMPTY_BIN_SHARE)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _stat(values: np.ndarray, fn) -> float | None:
    present = _present(values)
    return float(fn(present)) if present.size else None


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's comparison of a snapshot with its reference snapshot."""

    feature_name: str
    reference_rows: int
    current_rows: int
    reference_mean: float | None
    reference_std: float | None
    current_mean: float | None
    current_std: float | None
    psi: float
    alert_threshold: float
    is_drifting: bool

    def as_row(self) -> dict[str, object]:
        return asdict(self)


def measure_drift(
    reference: Mapping[str, np.ndarray],
    current: Mapping[str, np.ndarray],
    features: Sequence[str],
    threshold: float = PSI_ALERT_THRESHOLD,
) -> list[FeatureDrift]:
    """Mean, standard deviation and PSI of each feature, current against reference."""
    drifts = []
    for name in features:
        ref = np.asarray(reference[name], dtype=float)
        cur = np.asarray(current[name], dtype=float)
        psi = population_stability_index(ref, cur)
        drifts.append(
            FeatureDrift(
                feature_name=name,
                reference_rows=int(ref.size),
                current_rows=int(cur.size),
                reference_mean=_stat(ref, np.mean),
                reference_std=_stat(ref, np.std),
                current_mean=_stat(cur, np.mean),
                current_std=_stat(cur, np.std),
                psi=round(psi, 6) if math.isfinite(psi) else psi,
                alert_threshold=threshold,
                is_drifting=psi > threshold,
            )
        )
    return drifts
