"""lakehouse_assets: a medallion lakehouse as partitioned Dagster assets on Spark + Delta Lake.

Importing this package must stay cheap: no Spark session, no network, no file system scans.
The Dagster entry point is :mod:`lakehouse_assets.definitions`.
"""
