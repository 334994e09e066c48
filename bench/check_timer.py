"""Time spent inside the quality checks of a run, measured from outside the product.

Checks are evaluated inside the asset bodies (a check reads back what the step just committed),
so Dagster's step durations cannot separate them. ``CheckTimer`` wraps every function that
evaluates a check or contract and sums the wall time spent in them (outermost call only, so a
check calling another is counted once). Rules observed while writing cost nothing extra and
are, correctly, not counted.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# (module, function) of every check evaluation in the product.
CHECK_FUNCTIONS = (
    ("lakehouse_assets.bronze.ingest", "landed_files_check"),
    ("lakehouse_assets.bronze.ingest", "accounting_check"),
    ("lakehouse_assets.bronze.ingest", "dead_letter_check"),
    ("lakehouse_assets.quality.checks", "rule_check_result"),
    ("lakehouse_assets.quality.checks", "accounting_check_result"),
    ("lakehouse_assets.quality.checks", "record_dq_metrics"),
    ("lakehouse_assets.quality.contracts", "validate_contract"),
    ("lakehouse_assets.table_checks", "unique_key_check"),
    ("lakehouse_assets.silver.checks", "history_integrity_check"),
    ("lakehouse_assets.gold.checks", "reconciliation_check"),
    ("lakehouse_assets.gold.checks", "foreign_key_checks"),
    ("lakehouse_assets.gold.checks", "scd2_date_integrity_check"),
    ("lakehouse_assets.gold.dimension_assets", "_dimension_checks"),
    ("lakehouse_assets.features.assets", "point_in_time_check"),
    ("lakehouse_assets.features.assets", "drift_check"),
)


class CheckTimer:
    """Sum of seconds spent in check functions since the last ``reset``, per function."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._depth = 0
        self._installed = False

    def reset(self) -> None:
        self.seconds.clear()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def install(self) -> CheckTimer:
        """Replace each check function, and every module-level alias of it, with a timed one."""
        if self._installed:
            return self
        importlib.import_module("lakehouse_assets.definitions")  # every module that uses checks
        originals = {}
        for module_name, name in CHECK_FUNCTIONS:
            module = importlib.import_module(module_name)
            original = getattr(module, name)
            originals[id(original)] = self._timed(f"{module_name}.{name}", original)
        # `from x import f` copies f into the importer: rebind those copies too.
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith("lakehouse_assets"):
                continue
            for attribute, value in list(vars(module).items()):
                if id(value) in originals:
                    setattr(module, attribute, originals[id(value)])
        self._installed = True
        return self

    def _timed(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self._depth -= 1

        return timed
