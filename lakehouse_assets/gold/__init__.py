"""Gold: the dimensional model (star schema) BI tools and features read."""
