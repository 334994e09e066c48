"""Features: point-in-time customer feature snapshots (built on gold)."""
