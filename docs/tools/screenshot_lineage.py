"""Screenshot the Dagster UI's global asset lineage with headless Chromium, and refuse a
picture nobody can read.

The lineage page is a single-page app: the asset graph is fetched over GraphQL and laid out in
a web worker after the page has loaded, so ``chromium --screenshot`` alone captures it at an
arbitrary moment (and with the "Join the Dagster community" dialog over it). This script instead
drives Debian's ``chromium`` through the DevTools protocol (``websockets`` from the venv, nothing
else beyond the stdlib):

1. checks the UI answers (``/server_info``) and asks its GraphQL API for the asset groups;
2. opens the lineage page with the groups chosen by ``--expand`` expanded (default: none, the
   group-level lineage), the community dialog and the navigation sidebar dismissed, laid out
   left to right (``--direction``);
3. waits until the nodes are drawn and the viewport has stopped moving, hides the asset tree
   sidebar, makes the window as tall as the graph needs at its width, re-fits the graph;
4. checks the layout (:func:`layout_problems`): every node drawn, inside the picture, its label
   not cut (no ``…``, no overflow) and at least ``MIN_README_FONT_PX`` high once the picture is
   shown at the README's width; any problem fails the run (exit 1) and writes no PNG;
5. writes the PNG, cropped to the graph.

Usage, with the UI on port 3000 (``make dev`` or ``make live``); ``make screenshot`` writes the
README's two pictures::

    .venv/bin/python docs/tools/screenshot_lineage.py --out docs/images/lineage_groups.png
    .venv/bin/python docs/tools/screenshot_lineage.py --expand gold \
        --out docs/images/lineage_gold.png
    .venv/bin/python docs/tools/screenshot_lineage.py --url http://host:3000/asset-groups \
        --expand all --window-size 1600x1000 --out /tmp/lineage.png

Exit status: 0 on success, 1 if the graph did not render in time or fails the layout checks,
2 if the UI does not answer, Chromium is missing or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    from websockets.sync.client import ClientConnection, connect
except ImportError:  # pragma: no cover - depends on the environment
    ClientConnection = Any  # type: ignore[misc,assignment]
    connect = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "http://127.0.0.1:3000/asset-groups"  # "Lineage" in the nav: global asset lineage
DEFAULT_OUT = REPO_ROOT / "docs" / "images" / "lineage_groups.png"
STABLE_SECONDS = 1.5  # the viewport must be unchanged this long before the shot is taken
POLL_SECONDS = 0.25
# GitHub shows a README's images at most this wide (CSS px); a label must stay readable there.
README_WIDTH_PX = 880
MIN_README_FONT_PX = 9.0
MARGIN_PX = 16  # around the graph in the cropped picture

# Read the state of the lineage viewport: its box, its pan/zoom transform, the graph's size and
# every node currently drawn (off-screen nodes are not rendered at all): its label, its box on
# the page, the smallest text in it as rendered (font size times the zoom), and whether any of
# its text overflows its box.
PROBE_JS = """
(() => {
  const vp = document.querySelector('[data-svg-viewport]');
  if (!vp) return {viewport: false, title: document.title};
  const box = vp.getBoundingClientRect();
  // The viewport runs under the toolbar and the zoom controls: keep the part the graph shows in.
  const mine = (x, y) => {
    const el = document.elementFromPoint(x, y);
    return el && vp.contains(el);
  };
  const mid = (box.left + box.right) / 2;
  let top = box.top;
  while (top < box.bottom && !mine(mid, top + 1)) top += 2;
  let right = box.right;
  for (let y = top + 2; y < box.bottom; y += 8) {
    let x = box.right - 1;
    while (x > mid && !mine(x, y)) x -= 2;
    right = Math.min(right, x);
  }
  const svg = vp.querySelector('svg');
  const nodes = [];
  for (const fo of vp.querySelectorAll('foreignObject')) {
    const label = (fo.textContent || '').trim();
    if (!label) continue;
    const r = fo.getBoundingClientRect();
    let font = null, overflow = false;
    for (const el of fo.querySelectorAll('*')) {
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const zoom = el.offsetHeight ? el.getBoundingClientRect().height / el.offsetHeight : 1;
      const size = parseFloat(getComputedStyle(el).fontSize) * zoom;
      font = font === null ? size : Math.min(font, size);
      if (el.scrollWidth > el.clientWidth + 1) overflow = true;
    }
    nodes.push({label, group: fo.getAttribute('class') === 'group', overflow, font,
                box: [r.left, r.top, r.right, r.bottom]});
  }
  return {
    viewport: true,
    title: document.title,
    box: [box.left, top, right, box.bottom],
    transform: vp.firstElementChild ? vp.firstElementChild.style.transform : '',
    graphWidth: svg ? Number(svg.getAttribute('width')) : 0,
    graphHeight: svg ? Number(svg.getAttribute('height')) : 0,
    nodes,
  };
})()
"""

# Hide the asset tree next to the graph (its toggle is React state, not stored anywhere).
HIDE_SIDEBAR_JS = """
(() => {
  const icon = document.querySelector('[aria-label="panel_show_right"]');
  const button = icon && icon.closest('button');
  if (!button) return false;
  button.click();
  return true;
})()
"""

# Hide the zoom and option buttons floating over the graph's right edge (not part of a picture).
HIDE_CONTROLS_JS = """
(() => {
  const icon = document.querySelector('[aria-label="zoom_in"]');
  let el = icon;
  while (el && getComputedStyle(el).position !== 'absolute') el = el.parentElement;
  if (!el) return false;
  el.style.visibility = 'hidden';
  return true;
})()
"""

# A wheel event on the graph: with ctrl it zooms around (x, y), without it pans.
WHEEL_JS = """
(() => {{
  const vp = document.querySelector('[data-svg-viewport]');
  vp.dispatchEvent(new WheelEvent('wheel', {{deltaX: {dx}, deltaY: {dy}, ctrlKey: {ctrl},
    clientX: {x}, clientY: {y}, bubbles: true, cancelable: true}}));
  return true;
}})()
"""

# A double click on the graph background re-fits the graph to the viewport's width.
REFIT_JS = """
(() => {
  const vp = document.querySelector('[data-svg-viewport]');
  if (!vp) return false;
  vp.dispatchEvent(new MouseEvent('dblclick', {bubbles: true, cancelable: true}));
  return true;
})()
"""


class ScreenshotError(Exception):
    """A failure with a message for the user and the exit status to leave with."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"lineage page (default {DEFAULT_URL})")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="PNG to write (default %(default)s)"
    )
    parser.add_argument(
        "--expand",
        action="append",
        default=[],
        metavar="GROUP",
        help="asset group to show expanded (repeat, or 'all'); default: none, the group-level "
        "lineage",
    )
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=30.0,
        help="how long to wait for the graph to render before giving up (default %(default)s)",
    )
    parser.add_argument(
        "--window-size",
        default="1000x600",
        help="browser viewport, WIDTHxHEIGHT or WIDTH,HEIGHT; the height grows to what the "
        "graph needs at this width (default %(default)s)",
    )
    parser.add_argument(
        "--direction",
        choices=("vertical", "horizontal"),
        default="horizontal",
        help="graph layout; horizontal reads left to right by layer (default %(default)s)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=2.0,
        help="device pixel ratio; 2 gives a sharp PNG on high-density screens "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--chromium",
        default=os.environ.get("CHROMIUM", "chromium"),
        help="Chromium executable (default: $CHROMIUM or 'chromium' on PATH)",
    )
    args = parser.parse_args(argv)
    match = re.fullmatch(r"\s*(\d+)\s*[x,]\s*(\d+)\s*", args.window_size)
    if not match:
        parser.error(f"--window-size must look like 1600x1000, got {args.window_size!r}")
    args.width, args.height = int(match[1]), int(match[2])
    if args.wait_seconds <= 0:
        parser.error("--wait-seconds must be positive")
    return args


def ui_base(url: str) -> str:
    """Return the webserver root for a UI page URL (keeping any --path-prefix)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ScreenshotError(f"--url must be an http(s) URL, got {url!r}")
    path = parts.path.split("/asset-groups", 1)[0] if "/asset-groups" in parts.path else ""
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def http_json(url: str, payload: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
    """GET (or POST ``payload`` as JSON to) ``url`` and decode the JSON answer."""
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def fetch_assets(base: str) -> list[dict[str, Any]]:
    """Check the UI answers and return its asset nodes (key, group, code location)."""
    try:
        info = http_json(f"{base}/server_info", timeout=5.0)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ScreenshotError(
            f"the Dagster UI does not answer at {base}/server_info ({exc}); start it first, e.g. "
            "`dagster-webserver -m lakehouse_assets.definitions -p 3000`, or pass --url"
        ) from exc
    query = "{ assetNodes { assetKey { path } groupName repository { name location { name } } } }"
    try:
        answer = http_json(f"{base}/graphql", {"query": query}, timeout=60.0)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ScreenshotError(f"the Dagster GraphQL API at {base}/graphql failed: {exc}") from exc
    nodes = (answer.get("data") or {}).get("assetNodes")
    if not nodes:
        errors = answer.get("errors") or "no assets"
        raise ScreenshotError(
            f"dagster-webserver {info.get('dagster_webserver_version', '?')} answers but lists "
            f"no assets ({errors}); is the code location loaded? (see {base}/locations)"
        )
    return nodes


def lineage_url(url: str, nodes: list[dict[str, Any]], expand: list[str]) -> str:
    """Add ``expanded=<the groups of expand>`` to the URL unless it already chooses groups
    (``expand`` may hold ``all``; empty: every group collapsed)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "expanded" for key, _ in query):
        return url
    wanted = expanded_groups(nodes, expand)
    group_ids: set[str] = set()
    for node in nodes:
        group = node.get("groupName") or "default"
        if group not in wanted:
            continue
        repo = node["repository"]
        group_ids.add(f"global@global:{group}")  # the id the UI uses by default
        # ...and the one used with the "asset graph groups per code location" feature flag.
        group_ids.add(f"{repo['name']}@{repo['location']['name']}:{group}")
    query.append(("expanded", ",".join(sorted(group_ids))))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="@:,")))


def expanded_groups(nodes: list[dict[str, Any]], expand: list[str]) -> set[str]:
    """The groups of ``expand`` (``all``: every group), checked against the UI's groups."""
    groups = {node.get("groupName") or "default" for node in nodes}
    wanted = {g for item in expand for g in item.split(",") if g}
    if "all" in wanted:
        return groups
    unknown = wanted - groups
    if unknown:
        raise ScreenshotError(
            f"--expand: no group {', '.join(sorted(unknown))} (groups: {', '.join(sorted(groups))})"
        )
    return wanted


def expected_labels(
    nodes: list[dict[str, Any]], expanded: set[str], only: str | None = None
) -> set[str]:
    """What the picture must show: every group's name (``only``: that group's), and the
    assets of expanded groups."""
    groups = {node.get("groupName") or "default" for node in nodes}
    if only is not None:
        groups, expanded = {only}, {only}
    assets = {
        node["assetKey"]["path"][-1]
        for node in nodes
        if (node.get("groupName") or "default") in expanded
    }
    return groups | assets


def layout_problems(state: dict[str, Any], expected: set[str], window_width: float) -> list[str]:
    """Why the drawn lineage (``state``, from ``PROBE_JS``) is not a readable picture of
    ``expected``: a node not drawn or outside the viewport, a label cut, a label smaller than
    ``MIN_README_FONT_PX`` at the README's width. Empty: the picture is good."""
    left, top, right, bottom = state["box"]
    drawn = {node["label"]: node for node in state["nodes"]}
    missing = sorted(expected - drawn.keys())
    problems = [f"not drawn (outside the view?): {name}" for name in missing]
    shrink = min(1.0, README_WIDTH_PX / window_width)
    for label, node in sorted(drawn.items()):
        if "…" in label or node["overflow"]:
            problems.append(f"label cut: {label!r}")
        x0, y0, x1, y1 = node["box"]
        if x0 < left - 0.5 or y0 < top - 0.5 or x1 > right + 0.5 or y1 > bottom + 0.5:
            problems.append(f"outside the picture: {label}")
        if node["font"] is not None and node["font"] * shrink < MIN_README_FONT_PX:
            problems.append(
                f"too small to read at the README's width: {label} "
                f"({node['font'] * shrink:.1f}px < {MIN_README_FONT_PX:.0f}px)"
            )
    return problems


def graph_clip(state: dict[str, Any]) -> dict[str, float]:
    """The picture's crop: the drawn nodes' bounding box plus ``MARGIN_PX``, inside the
    viewport (the UI's header and sidebars stay out)."""
    left, top, right, bottom = state["box"]
    boxes = [node["box"] for node in state["nodes"]]
    x0 = max(left, min(b[0] for b in boxes) - MARGIN_PX)
    y0 = max(top, min(b[1] for b in boxes) - MARGIN_PX)
    x1 = min(right, max(b[2] for b in boxes) + MARGIN_PX)
    y1 = min(bottom, max(b[3] for b in boxes) + MARGIN_PX)
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0, "scale": 1}


def find_chromium(name: str) -> str:
    """Return the path of the Chromium executable or fail with how to install it."""
    path = shutil.which(name)
    if path is None:
        raise ScreenshotError(
            f"Chromium not found ({name!r} is not on PATH). Install it with "
            "`sudo apt-get install -y chromium` (Debian/Ubuntu) or pass --chromium PATH."
        )
    return path


@contextmanager
def headless_chromium(executable: str, width: int, height: int) -> Iterator[str]:
    """Run headless Chromium with a throwaway profile; yield its page's DevTools websocket URL."""
    profile = Path(tempfile.mkdtemp(prefix="screenshot_lineage_"))
    log_path = profile / "chromium.log"
    command = [
        executable,
        "--headless=new",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "about:blank",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with the sandbox
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30.0
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise ScreenshotError(f"Chromium did not start its DevTools server:\n{tail}")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = http_json(f"http://127.0.0.1:{port}/json/list")
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise ScreenshotError("Chromium started without a page to drive")
        yield pages[0]["webSocketDebuggerUrl"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


class DevTools:
    """A minimal synchronous Chrome DevTools protocol client (commands only, events dropped)."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.next_id = 0

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, raising on a protocol error."""
        self.next_id += 1
        message_id = self.next_id
        self.websocket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScreenshotError(f"Chromium did not answer {method} in {timeout:.0f}s")
            message = json.loads(self.websocket.recv(timeout=remaining))
            if message.get("id") != message_id:
                continue  # an event or a late answer
            if "error" in message:
                raise ScreenshotError(f"Chromium rejected {method}: {message['error']}")
            return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its JSON value."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise ScreenshotError(f"page script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")


def wait_until_settled(devtools: DevTools, expected: set[str], deadline: float) -> dict[str, Any]:
    """Poll until nodes are drawn and the viewport is unchanged for STABLE_SECONDS."""
    last_key: tuple[Any, ...] | None = None
    stable_since = time.monotonic()
    while True:
        state = devtools.evaluate(PROBE_JS) or {}
        shown = {n["label"] for n in state.get("nodes", [])} & expected
        key = (state.get("transform"), tuple(state.get("box", ())), len(shown))
        now = time.monotonic()
        if key != last_key:
            last_key, stable_since = key, now
        elif shown and now - stable_since >= STABLE_SECONDS:
            return state
        if now > deadline:
            what = (
                f"{len(shown)} nodes drawn, viewport still moving"
                if shown
                else f"no nodes drawn (page title {state.get('title')!r})"
            )
            raise ScreenshotError(f"the lineage graph did not settle in time: {what}", status=1)
        time.sleep(POLL_SECONDS)


def fit_window_to_graph(
    devtools: DevTools, args: argparse.Namespace, state: dict[str, Any]
) -> None:
    """Make the window as tall as the graph needs once fitted to the viewport's width (the UI
    fits a graph to the width), so that nothing is cut at the bottom."""
    left, top, right, bottom = state["box"]
    width, height = state.get("graphWidth") or 0, state.get("graphHeight") or 0
    if not width or not height:
        return
    needed = (right - left) * height / width + 2 * MARGIN_PX
    chrome = args.height - (bottom - top)
    set_window(devtools, args, int(max(args.height, chrome + needed)))


def set_window(devtools: DevTools, args: argparse.Namespace, height: int) -> None:
    """Size the page ``args.width`` x ``height`` (kept in ``args``) at ``args.scale``."""
    args.height = height
    devtools.call(
        "Emulation.setDeviceMetricsOverride",
        width=args.width,
        height=height,
        deviceScaleFactor=args.scale,
        mobile=False,
    )


def node_box(state: dict[str, Any], label: str) -> list[float] | None:
    """The page box of the drawn node labelled ``label`` (None: not drawn)."""
    return next((n["box"] for n in state.get("nodes", []) if n["label"] == label), None)


def zoom_to_group(devtools: DevTools, args: argparse.Namespace, group: str) -> dict[str, Any]:
    """Zoom and pan until the expanded ``group`` fills the view's width, top left, the window
    as tall as the group; return the settled state. The UI zooms on ctrl + wheel around the
    pointer and pans on a plain wheel, so this steers it as a person would."""
    for _ in range(3):
        for _ in range(12):  # zoom: the ratio converges in two or three steps
            state = devtools.evaluate(PROBE_JS) or {}
            box = node_box(state, group)
            if box is None:
                raise ScreenshotError(f"the {group} group is not drawn", status=1)
            left, top, right, _ = state["box"]
            ratio = (right - left - 2 * MARGIN_PX) / (box[2] - box[0])
            if abs(ratio - 1) <= 0.02:
                break
            delta = max(-400.0, min(400.0, -595 * math.log(ratio)))
            x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            devtools.evaluate(WHEEL_JS.format(dx=0, dy=delta, ctrl="true", x=x, y=y))
            time.sleep(0.4)
        height = top + (box[3] - box[1]) + 3 * MARGIN_PX
        if height > args.height:
            set_window(devtools, args, int(height))
            time.sleep(0.4)
        for _ in range(12):  # pan the group's corner to the view's
            state = devtools.evaluate(PROBE_JS) or {}
            box = node_box(state, group) or box
            left, top, right, bottom = state["box"]
            dx, dy = box[0] - (left + MARGIN_PX), box[1] - (top + MARGIN_PX)
            if abs(dx) < 2 and abs(dy) < 2:
                return state
            x, y = (left + right) / 2, (top + bottom) / 2
            devtools.evaluate(WHEEL_JS.format(dx=dx / 0.7, dy=dy / 0.7, ctrl="false", x=x, y=y))
            time.sleep(0.4)
    raise ScreenshotError(f"could not bring the {group} group into view", status=1)


def take_screenshot(args: argparse.Namespace) -> tuple[set[str], dict[str, Any]]:
    """Render the lineage page, check it and write the PNG; return (expected labels, state)."""
    if connect is None:
        raise ScreenshotError(
            "the `websockets` package is missing; run this with the project's venv "
            "(.venv/bin/python) or `pip install websockets`"
        )
    base = ui_base(args.url)
    nodes = fetch_assets(base)
    expanded = expanded_groups(nodes, args.expand)
    # One layer expanded: the picture is that group, zoomed to the width (its neighbours,
    # collapsed, are context at its edges); else the whole graph fitted to the window.
    layer = next(iter(expanded)) if len(expanded) == 1 and "all" not in args.expand else None
    expected = expected_labels(nodes, expanded, only=layer)
    url = lineage_url(args.url, nodes, args.expand)
    executable = find_chromium(args.chromium)
    storage = {
        "communityNux": "1",  # the "Join the Dagster community" dialog has been seen
        "dagster-nav-collapsed": True,  # give the graph the width of the left navigation
        "asset-graph-direction": args.direction,
    }
    init_js = "".join(
        f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))});"
        for k, v in storage.items()
    )
    deadline = time.monotonic() + args.wait_seconds
    with (
        headless_chromium(executable, args.width, args.height) as ws_url,
        connect(ws_url, max_size=None, open_timeout=15) as websocket,
    ):
        devtools = DevTools(websocket)
        set_window(devtools, args, args.height)
        devtools.call("Page.enable")
        devtools.call("Page.addScriptToEvaluateOnNewDocument", source=init_js)
        navigation = devtools.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise ScreenshotError(f"Chromium could not open {url}: {navigation['errorText']}")
        wait_until_settled(devtools, expected, deadline)
        devtools.evaluate(HIDE_SIDEBAR_JS)
        devtools.evaluate(HIDE_CONTROLS_JS)
        devtools.evaluate(REFIT_JS)
        if layer is None:
            fit_window_to_graph(devtools, args, wait_until_settled(devtools, expected, deadline))
            devtools.evaluate(REFIT_JS)
        else:
            wait_until_settled(devtools, expected, deadline)
            zoom_to_group(devtools, args, layer)
        state = wait_until_settled(devtools, expected, deadline)
        if layer is not None:  # its neighbours' labels are the whole graph's picture's
            state = {**state, "nodes": [n for n in state["nodes"] if n["label"] in expected]}
        problems = layout_problems(state, expected, args.width)
        if problems:
            raise ScreenshotError(
                f"the lineage picture is not readable (graph {state.get('graphWidth')}x"
                f"{state.get('graphHeight')}, view {state['box']}, {state.get('transform')}):"
                "\n  " + "\n  ".join(problems),
                status=1,
            )
        shot = devtools.call(
            "Page.captureScreenshot",
            format="png",
            clip=graph_clip(state),
            captureBeyondViewport=False,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(base64.b64decode(shot["data"]))
    return expected, state


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        expected, _ = take_screenshot(args)
    except ScreenshotError as exc:
        print(f"screenshot_lineage: error: {exc}", file=sys.stderr)
        return exc.status
    print(
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) in "
        f"{time.monotonic() - started:.1f}s: {len(expected)} nodes, every label whole and "
        f"readable at the README's width"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
