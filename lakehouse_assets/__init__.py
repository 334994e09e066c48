"""lakehouse_assets: a medallion lakehouse as Dagster assets on Spark + Delta Lake (daily
partitions for tables owned by a date; whole tables unpartitioned).

Importing this package must stay cheap: no Spark session, no network, no file system scans.
The Dagster entry point is :mod:`lakehouse_assets.definitions`.
"""
