"""Bronze: raw, immutable, append-only records of every landed file."""
