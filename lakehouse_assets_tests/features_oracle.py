"""An independent (pandas, delta-rs) oracle of ``customer_features`` snapshots, from gold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal

import pandas as pd
from deltalake import DeltaTable

from lakehouse_assets.gold import tables as gold


def delta_frame(root: str, spec) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A table of the lakehouse at ``root``, read with delta-rs (no Spark)."""
    return DeltaTable(f"{root}/{spec.layer}/{spec.name}").to_pandas()


def expected_snapshot(root: str, day: dt.date, not_yet_known: Collection[int] = ()) -> pd.DataFrame:
    """The features of ``day`` from the gold tables as they stand, leaving out the orders
    ``not_yet_known`` (``order_id``s that arrived after the snapshot was first built: an
    as-known snapshot never counts them, see docs/features.md)."""
    facts = delta_frame(root, gold.FACT_ORDERS)
    facts = facts[~facts["order_id"].isin(list(not_yet_known))]
    dim = delta_frame(root, gold.DIM_CUSTOMER)
    dim = dim[~dim["is_unknown"]]
    facts = facts[facts["order_date"] <= day].merge(
        dim[["customer_key", "customer_id"]], on="customer_key"
    )
    in_effect = dim[(dim["effective_start_date"] <= day) & (day < dim["effective_end_date"])]
    age = (pd.Timestamp(day) - pd.to_datetime(facts["order_date"])).dt.days
    stats = facts.assign(last_30=age < 30, last_90=age < 90).groupby("customer_id")
    history = pd.DataFrame(
        {
            "total_orders": stats.size(),
            "lifetime_value": stats["total_price"].sum(),
            "last_purchase_date": stats["order_date"].max(),
            "orders_last_30_days": stats["last_30"].sum(),
            "orders_last_90_days": stats["last_90"].sum(),
        }
    )
    snapshot = in_effect[["customer_id", "market_segment"]].merge(
        history, left_on="customer_id", right_index=True, how="left"
    )
    counts = ["total_orders", "orders_last_30_days", "orders_last_90_days"]
    snapshot[counts] = snapshot[counts].fillna(0).astype(int)
    snapshot["lifetime_value"] = snapshot["lifetime_value"].fillna(Decimal("0.00"))
    last = snapshot["last_purchase_date"].astype(object)
    snapshot["last_purchase_date"] = last.where(last.notna(), None)
    return snapshot.sort_values("customer_id").reset_index(drop=True)
