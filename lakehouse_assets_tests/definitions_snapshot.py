"""A reviewable snapshot of the whole Definitions: what a user sees in the UI and CLI.

Asset keys, their deps, groups, partitioning, owners, tags, kinds and code versions, every check
and whether it blocks, automation conditions (each distinct tree written once), freshness
policies, jobs with their resolved selections, schedules, sensors and the resources each
environment binds. Built from fixed settings, so it does not depend on the machine.

``test_definitions_snapshot.py`` fails on any difference. After an intended change:

    make snapshot

rewrites ``snapshots/definitions.json``; the diff is what the change did to the graph.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dagster import AutomationCondition

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.settings import LakehouseSettings

SNAPSHOT_PATH = Path(__file__).parent / "snapshots" / "definitions.json"
KIND_TAG = "dagster/kind/"


def snapshot_settings(env: str) -> LakehouseSettings:
    """Fixed settings: the snapshot holds no path or variable of this machine."""
    return LakehouseSettings(
        env=env,
        root="/lakehouse",
        landing_root="/lakehouse/landing",
        checkpoint_root="/lakehouse/checkpoints",
        catalog="dev",
    )


def condition_tree(condition: AutomationCondition) -> dict[str, Any]:
    """An automation condition as nested operator names and labels."""
    node: dict[str, Any] = {"name": condition.name}
    if condition.get_label():
        node["label"] = condition.get_label()
    children = [condition_tree(child) for child in condition.children]
    if children:
        node["children"] = children
    return node


def _condition_name(condition: AutomationCondition | None, trees: dict[str, Any]) -> str | None:
    if condition is None:
        return None
    name = condition.get_label() or condition.name
    tree = condition_tree(condition)
    if name in trees and trees[name] != tree:
        name = f"{name} #{condition.get_unique_id()}"
    trees[name] = tree
    return name


def _assets(graph: Any, trees: dict[str, Any]) -> dict[str, Any]:
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        freshness = node.freshness_policy
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": str(node.partitions_def) if node.partitions_def else None,
            "executable": node.is_executable,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            # Kinds are listed above; their tags would repeat them.
            "tags": {k: v for k, v in sorted(node.tags.items()) if not k.startswith(KIND_TAG)},
            # Whether it has one: the value is a digest of its layer's source, which every
            # edit changes.
            "code_version": "set" if node.code_version else None,
            "code_references": "dagster/code_references" in node.metadata,
            "automation_condition": _condition_name(node.automation_condition, trees),
            "freshness_policy": repr(freshness) if freshness is not None else None,
            "checks": {
                ck.name: {"blocking": graph.get(ck).blocking}
                for ck in sorted(node.check_keys, key=lambda c: c.name)
            },
        }
    return assets


def _jobs(repo: Any) -> dict[str, Any]:
    jobs = {}
    for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__ASSET_JOB"):
            continue
        layer = job.asset_layer
        # A job's own asset graph holds exactly the checks it executes.
        checks = layer.asset_graph.asset_check_keys
        jobs[job.name] = {
            "partitioned": job.partitions_def is not None,
            "assets": sorted(k.to_user_string() for k in layer.selected_asset_keys),
            "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in checks),
        }
    return jobs


def _schedules(repo: Any) -> dict[str, Any]:
    return {
        s.name: {
            "cron": s.cron_schedule,
            "job": s.job_name,
            "timezone": s.execution_timezone,
            "default_status": s.default_status.value,
        }
        for s in sorted(repo.schedule_defs, key=lambda s: s.name)
    }


def _sensors(repo: Any) -> dict[str, Any]:
    return {
        s.name: {
            "type": type(s).__name__,
            "default_status": s.default_status.value,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
        }
        for s in sorted(repo.sensor_defs, key=lambda s: s.name)
    }


def definitions_snapshot() -> dict[str, Any]:
    """The snapshot of the local Definitions, plus the resource keys of both environments."""
    repo = build_definitions(snapshot_settings("local")).get_repository_def()
    repo.load_all_definitions()
    trees: dict[str, Any] = {}
    snapshot = {
        "assets": _assets(repo.asset_graph, trees),
        "automation_conditions": dict(sorted(trees.items())),
        "jobs": _jobs(repo),
        "schedules": _schedules(repo),
        "sensors": _sensors(repo),
        "resources": {
            env: sorted(build_definitions(snapshot_settings(env)).resources or {})
            for env in ("local", "databricks")
        },
    }
    # A JSON round trip: tuples become lists, as in the file.
    return json.loads(json.dumps(snapshot, default=str))


def render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=1, sort_keys=False) + "\n"


def main() -> None:
    """Rewrite the snapshot file from the code as it stands (``make snapshot``)."""
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT_PATH.write_text(render(definitions_snapshot()))
    print(f"wrote {SNAPSHOT_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
