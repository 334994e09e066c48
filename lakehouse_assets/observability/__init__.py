"""Observability: the assets that look at the whole lakehouse (its data dictionary, its run
history). Built from the asset graph they are given, in the ``monitoring`` group."""
