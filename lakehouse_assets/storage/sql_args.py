"""Bound parameters for SQL statements built in code (pure).

Values that must not appear in a statement's text (personal data, ids from outside) are bound
as named parameters (``:p0``, ``:p1``, ...) and passed to ``spark.sql(statement, args=...)``,
which works on a classic session and over Spark Connect alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SqlArgs:
    """The parameters of one statement, named in the order they are bound."""

    values: dict[str, object] = field(default_factory=dict)

    def bind(self, value: object) -> str:
        """Bind ``value``; return the marker to write in the statement in its place."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"
