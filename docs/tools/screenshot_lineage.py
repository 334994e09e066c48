"""Screenshot the Dagster UI's global asset lineage graph with headless Chromium.

The lineage page is a single-page app: the asset graph is fetched over GraphQL and laid out in
a web worker after the page has loaded, so ``chromium --screenshot`` alone captures it at an
arbitrary moment (and with the "Join the Dagster community" dialog over it). This script instead
drives Debian's ``chromium`` through the DevTools protocol (``websockets`` from the venv, nothing
else beyond the stdlib):

1. checks the UI answers (``/server_info``) and asks its GraphQL API for the asset groups;
2. opens the lineage page with every group expanded (``?expanded=...``), the community dialog
   and the navigation sidebar dismissed, and the layout direction chosen by ``--direction``;
3. waits until asset nodes are drawn and the viewport has stopped moving, hides the asset tree
   sidebar, re-fits the graph and writes a PNG.

Usage, with the UI on port 3000 (``make dev`` or ``dagster-webserver -m ...``)::

    .venv/bin/python docs/tools/screenshot_lineage.py
    .venv/bin/python docs/tools/screenshot_lineage.py --url http://host:3000/asset-groups \
        --out /tmp/lineage.png --wait-seconds 60 --direction horizontal

Exit status: 0 on success, 1 if the graph did not render in time, 2 if the UI does not answer,
Chromium is missing or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import base64
import json
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
DEFAULT_OUT = REPO_ROOT / "docs" / "images" / "live_lineage.png"
STABLE_SECONDS = 1.5  # the viewport must be unchanged this long before the shot is taken
POLL_SECONDS = 0.25

# Read the state of the lineage viewport: its size, its pan/zoom transform, the graph's size and
# the text of every node currently drawn (off-screen nodes are not rendered at all).
PROBE_JS = """
(() => {
  const vp = document.querySelector('[data-svg-viewport]');
  if (!vp) return {viewport: false, title: document.title};
  const box = vp.getBoundingClientRect();
  const svg = vp.querySelector('svg');
  return {
    viewport: true,
    title: document.title,
    width: box.width,
    height: box.height,
    transform: vp.firstElementChild ? vp.firstElementChild.style.transform : '',
    graphWidth: svg ? Number(svg.getAttribute('width')) : 0,
    graphHeight: svg ? Number(svg.getAttribute('height')) : 0,
    texts: Array.from(vp.querySelectorAll('foreignObject')).map((e) => e.textContent || ''),
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
        "--wait-seconds",
        type=float,
        default=30.0,
        help="how long to wait for the graph to render before giving up (default %(default)s)",
    )
    parser.add_argument(
        "--window-size",
        default="1600x1000",
        help="browser viewport, WIDTHxHEIGHT or WIDTH,HEIGHT (default %(default)s)",
    )
    parser.add_argument(
        "--direction",
        choices=("vertical", "horizontal"),
        default="vertical",
        help="graph layout; vertical fits a landscape window best (default %(default)s)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="device pixel ratio; 2 gives a sharper, twice-as-large PNG (default %(default)s)",
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


def lineage_url(url: str, nodes: list[dict[str, Any]]) -> str:
    """Add ``expanded=<every group>`` to the URL unless it already chooses groups."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "expanded" for key, _ in query):
        return url
    group_ids: set[str] = set()
    for node in nodes:
        group = node.get("groupName") or "default"
        repo = node["repository"]
        group_ids.add(f"global@global:{group}")  # the id the UI uses by default
        # ...and the one used with the "asset graph groups per code location" feature flag.
        group_ids.add(f"{repo['name']}@{repo['location']['name']}:{group}")
    query.append(("expanded", ",".join(sorted(group_ids))))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="@:,")))


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


def visible_assets(texts: list[str], names: set[str]) -> set[str]:
    """Return the asset names drawn in the viewport (long names are shortened with '…')."""
    found = {name for name in names if any(name in text for text in texts)}
    for text in texts:
        for head, tail in re.findall(r"([\w.-]+)…([\w.-]+)", text):
            found |= {n for n in names if n.startswith(head) and n.endswith(tail)}
    return found


def wait_until_settled(
    devtools: DevTools, names: set[str], deadline: float
) -> tuple[dict[str, Any], set[str]]:
    """Poll until asset nodes are drawn and the viewport is unchanged for STABLE_SECONDS."""
    last_key: tuple[Any, ...] | None = None
    stable_since = time.monotonic()
    state: dict[str, Any] = {}
    while True:
        state = devtools.evaluate(PROBE_JS) or {}
        shown = visible_assets(state.get("texts", []), names) if state.get("viewport") else set()
        key = (state.get("transform"), state.get("width"), state.get("height"), len(shown))
        now = time.monotonic()
        if key != last_key:
            last_key, stable_since = key, now
        elif shown and now - stable_since >= STABLE_SECONDS:
            return state, shown
        if now > deadline:
            what = (
                f"{len(shown)} asset nodes drawn, viewport still moving"
                if shown
                else f"no asset nodes drawn (page title {state.get('title')!r})"
            )
            raise ScreenshotError(f"the lineage graph did not settle in time: {what}", status=1)
        time.sleep(POLL_SECONDS)


def take_screenshot(args: argparse.Namespace) -> tuple[set[str], set[str], dict[str, Any]]:
    """Render the lineage page and write the PNG; return (all assets, drawn assets, viewport)."""
    if connect is None:
        raise ScreenshotError(
            "the `websockets` package is missing; run this with the project's venv "
            "(.venv/bin/python) or `pip install websockets`"
        )
    base = ui_base(args.url)
    nodes = fetch_assets(base)
    names = {node["assetKey"]["path"][-1] for node in nodes}
    url = lineage_url(args.url, nodes)
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
        devtools.call(
            "Emulation.setDeviceMetricsOverride",
            width=args.width,
            height=args.height,
            deviceScaleFactor=args.scale,
            mobile=False,
        )
        devtools.call("Page.enable")
        devtools.call("Page.addScriptToEvaluateOnNewDocument", source=init_js)
        navigation = devtools.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise ScreenshotError(f"Chromium could not open {url}: {navigation['errorText']}")
        wait_until_settled(devtools, names, deadline)
        if devtools.evaluate(HIDE_SIDEBAR_JS):
            devtools.evaluate(REFIT_JS)
        state, shown = wait_until_settled(devtools, names, deadline)
        shot = devtools.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(base64.b64decode(shot["data"]))
    return names, shown, state


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        names, shown, state = take_screenshot(args)
    except ScreenshotError as exc:
        print(f"screenshot_lineage: error: {exc}", file=sys.stderr)
        return exc.status
    print(
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) in "
        f"{time.monotonic() - started:.1f}s: {len(shown)} of {len(names)} asset nodes in view"
    )
    missing = sorted(names - shown)
    if missing:
        print(
            f"warning: {len(missing)} asset nodes not drawn (in a collapsed group, or cut off: "
            f"the {state.get('graphWidth'):.0f}x{state.get('graphHeight'):.0f} graph is "
            "fitted to the window's width; try a taller --window-size or --direction "
            f"vertical): {', '.join(missing)}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
