"""Named fault points: a process kills itself at an exact moment, for crash tests.

``LAKEHOUSE_KILL_AT=<point>[@<n>]`` makes the process SIGKILL itself the ``n``-th time (default
the first) it reaches ``fault_point(<point>)``: no clean-up, no ``finally``, as a power cut or
the OOM killer would stop it. A crash test then asserts what a restart finds, at a moment it
named instead of one it hoped to hit by polling. Unset (always, outside such tests) a fault
point is one environment lookup.

The points, in the order a bronze micro-batch reaches them:

* ``bronze.rows_written``: the batch's rows are committed to bronze (and its dead letters to
  the dead-letter queue); the file ledger is not;
* ``bronze.ledger_written``: the file ledger holds the batch; the stream's checkpoint has not
  committed it.
"""

from __future__ import annotations

import os
import signal
import sys

KILL_AT_ENV = "LAKEHOUSE_KILL_AT"
FAULT_POINTS = ("bronze.rows_written", "bronze.ledger_written")
_reached: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Die here (SIGKILL) if ``LAKEHOUSE_KILL_AT`` names this point and occurrence."""
    spec = os.environ.get(KILL_AT_ENV)
    if not spec:
        return
    point, _, occurrence = spec.partition("@")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(occurrence or 1):
        sys.stderr.write(f"{KILL_AT_ENV}: killed at {name} (occurrence {_reached[name]})\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
