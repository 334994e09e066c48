"""Feature table specs (and the drift table they report into)."""

from __future__ import annotations

from lakehouse_assets.storage import TableSpec

CUSTOMER_FEATURES = TableSpec(
    layer="features",
    name="customer_features",
    cluster_by=("as_of_date",),
    comment=(
        "Point-in-time customer features: one snapshot per as-of date with one row per customer "
        "in effect that day, computed only from orders dated on or before it and the customer "
        "version of that day (no leakage into training sets)."
    ),
)

FEATURE_DRIFT = TableSpec(
    layer="monitoring",
    name="feature_drift",
    cluster_by=("as_of_date",),
    comment=(
        "One row per customer_features snapshot and numeric feature: mean, standard deviation "
        "and PSI against the previous snapshot; is_drifting when PSI exceeds the threshold."
    ),
)
