"""The README's lineage pictures: the screenshot tool refuses a picture nobody can read.

The browser half needs a running UI and Chromium (``make screenshot``); what decides whether a
picture is good is pure and checked here on layouts as the page probe reports them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "docs" / "tools" / "screenshot_lineage.py"
spec = importlib.util.spec_from_file_location("screenshot_lineage", TOOL)
assert spec and spec.loader
screenshot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(screenshot)

NODES = [
    {"assetKey": {"path": [name]}, "groupName": group, "repository": {}}
    for name, group in [("bronze_orders", "bronze"), ("fact_orders", "gold"), ("dim_date", "gold")]
]


def node(label: str, box=(100, 100, 250, 150), font: float = 12.0, overflow: bool = False):
    return {"label": label, "group": False, "overflow": overflow, "font": font, "box": box}


def state(*nodes) -> dict:  # type: ignore[no-untyped-def]
    return {"box": [68, 100, 1000, 700], "nodes": list(nodes)}


def test_a_whole_readable_layout_has_no_problems():
    drawn = state(node("gold"), node("bronze", box=(300, 100, 450, 150)))
    assert screenshot.layout_problems(drawn, {"gold", "bronze"}, 1000) == []


@pytest.mark.parametrize(
    ("drawn", "problem"),
    [
        (node("fact_…_orders"), "label cut"),
        (node("fact_orders", overflow=True), "label cut"),
        (node("fact_orders", box=(900, 100, 1050, 150)), "outside the picture"),
        (node("fact_orders", box=(100, 60, 250, 110)), "outside the picture"),  # under the bar
        (node("fact_orders", font=9.5), "too small to read"),  # 9.5 * 880/1000 < 9
    ],
)
def test_a_cut_outside_or_tiny_label_fails_the_picture(drawn, problem):
    problems = screenshot.layout_problems(state(drawn), {"fact_orders"}, 1000)
    assert any(problem in p for p in problems), problems


def test_a_node_not_drawn_fails_the_picture():
    problems = screenshot.layout_problems(state(node("gold")), {"gold", "dim_date"}, 1000)
    assert problems == ["not drawn (outside the view?): dim_date"]


def test_the_pictures_show_groups_or_one_layer():
    assert screenshot.expected_labels(NODES, set()) == {"bronze", "gold"}
    one_layer = screenshot.expected_labels(NODES, {"gold"}, only="gold")
    assert one_layer == {"gold", "fact_orders", "dim_date"}
    assert screenshot.expanded_groups(NODES, ["all"]) == {"bronze", "gold"}
    with pytest.raises(screenshot.ScreenshotError, match="no group silver"):
        screenshot.expanded_groups(NODES, ["silver"])


def test_the_readme_opens_with_both_pictures():
    readme = (TOOL.parents[2] / "README.md").read_text()
    before_the_diagram = readme.split("```mermaid")[0]
    for picture in ("lineage_groups.png", "lineage_gold.png"):
        assert f"docs/images/{picture}" in before_the_diagram
        assert (TOOL.parents[1] / "images" / picture).stat().st_size > 10_000
