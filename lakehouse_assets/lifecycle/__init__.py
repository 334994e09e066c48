"""Table lifecycle: maintenance (OPTIMIZE, VACUUM) per layer and row retention, built over
the tables of the asset graph they are given, recorded in ``monitoring.table_maintenance``."""
