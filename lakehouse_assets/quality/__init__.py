"""Data quality: named SQL rules with actions and thresholds, evaluated in one pass."""
