"""Monitoring tables: the lakehouse's own operational record (file ledger, run and quality
metrics), stored as Delta tables under the ``monitoring`` layer like any other table."""
