"""Resource keys shared by assets and the resource builders."""

from __future__ import annotations


def step_launcher_key(layer: str) -> str:
    """The step-launcher resource of ``layer``'s Spark steps.

    One key per layer, so databricks mode can give each layer its own job cluster (small for
    bronze, bigger for gold). Locally every key is bound to a no-op resource.
    """
    return f"{layer}_step_launcher"
