"""Sample data: TPC-H from ``tpchgen-cli``, landed the way real sources land.

* orders and line items: one JSON-lines file per order date
  (``<source>/<date>/<source>_<date>.jsonl``); days without orders still get an (empty)
  daily extract, as a real daily export would.
* customers: change events (``c``/``u``/``d`` with a sequence number and the full row).
* parts and suppliers as Parquet snapshots, nations and regions as CSV snapshots.

Every file is written to a temporary name and renamed into place, so a reader (the bronze
stream) never sees a half-written file.
"""

from lakehouse_assets.sample_data.landing import LandingReport, land_tpch
from lakehouse_assets.sample_data.tpch import generate_tpch

__all__ = ["LandingReport", "generate_tpch", "land_tpch"]
