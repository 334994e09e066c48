"""Silver: cleansed, typed, deduplicated records, traceable to their bronze rows."""
