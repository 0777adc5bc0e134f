"""Edit-to-reload latency of `site-gen serve`.

    python bench/serve_latency.py                      # the example site (target < 200 ms)
    python bench/serve_latency.py --site /tmp/corpus-10k   # any site (target < 1 s at 10,000 stories)
    python bench/serve_latency.py --stories 10000      # generate one with bench/gen_corpus.py
    python bench/serve_latency.py --site /tmp/corpus-10k --settle 10   # first edit 10 s after start

The site is copied to a temporary folder and served there (`--port 0`), so
the original is never touched. A WebSocket client speaks the reload
protocol like a page does; each round edits one story's title, then times
(1) writing the file -> the reload message reaching the client, and
(2) writing the file -> the page fetched over HTTP showing the new title,
which is what a browser sees once it has reloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tornado.websocket

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from run import Watching  # noqa: E402  (a site-gen process and its terminal, timed)

PROTOCOL = "http://livereload.com/protocols/official-7"
TITLE = re.compile(r"^title: *(.*)$", re.MULTILINE)
BUILD_MS = re.compile(r" changed: .* rebuilt.* in (\d+) ms")


def copy_site(source: Path, into: Path) -> Path:
    site = into / "site"
    site.mkdir()
    shutil.copy(source / "site.yaml", site / "site.yaml")
    for name in ("content", "templates", "static"):
        if (source / name).is_dir():
            shutil.copytree(source / name, site / name, symlinks=True)
    return site


def generate(stories: int, into: Path) -> Path:
    script = REPO / "bench" / "gen_corpus.py"
    if not script.is_file():
        sys.exit("bench/gen_corpus.py is missing: pass --site DIR instead")
    out = into / "site"
    subprocess.run([sys.executable, str(script), "--stories", str(stories), "--out", str(out)], check=True)
    return out


class Server(Watching):
    """`site-gen serve --port 0` on the site, its terminal lines kept."""

    def __init__(self, site: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        super().__init__([sys.executable, "-m", "site_gen", "--site", str(site), "serve", "--port", "0"], env)
        line, _ = self.wait_for("serving ", 1800)
        match = re.search(r"at http://[^:]+:(\d+)(/\S*) ", line)
        if not match:
            sys.exit("serve failed:\n" + "\n".join(self.texts))
        self.port, self.base = int(match.group(1)), match.group(2)

    @property
    def texts(self) -> list[str]:
        return [line for line, _ in self.lines]

    def get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            reply = conn.getresponse()
            return reply.status, reply.read().decode("utf-8", "replace")
        finally:
            conn.close()


def pick_story(site: Path, server: Server) -> tuple[Path, str]:
    """A story file with a plain one-line title whose page exists."""
    for path in sorted((site / "content" / "stories").rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        match = TITLE.search(text)
        if not match or text.count("\ntitle:") + text.startswith("title:") != 1:
            continue
        page = f"{server.base}stories/{path.stem}/"
        if server.get(page)[0] == 200:
            return path, page
    sys.exit("no story with its own page and a one-line title found")


def retitle(path: Path, marker: str) -> None:
    text = path.read_text(encoding="utf-8")
    match = TITLE.search(text)
    assert match
    value = re.sub(r" \[bench-\d+\]", "", match.group(1))
    if value[:1] in ("'", '"'):
        new = value[:-1] + f" [{marker}]" + value[-1]
    else:
        new = f"{value} [{marker}]"
    path.write_text(text[: match.start(1)] + new + text[match.end(1) :], encoding="utf-8")


async def measure(
    server: Server, story: Path, page: str, rounds: int, timeout: float
) -> tuple[list[float], list[float]]:
    url = f"ws://127.0.0.1:{server.port}/livereload"
    conn = await tornado.websocket.websocket_connect(url)
    status, html = server.get(page)
    generation = int(re.search(r"var generation=(\d+)", html).group(1))
    hello = {"command": "hello", "protocols": [PROTOCOL], "generation": generation}
    await conn.write_message(json.dumps(hello))
    await conn.read_message()  # hello
    reloads, pages = [], []
    for n in range(rounds):
        marker = f"bench-{n}"
        started = time.perf_counter()
        retitle(story, marker)
        try:
            message = json.loads(await asyncio.wait_for(conn.read_message(), timeout))
        except asyncio.TimeoutError:
            sys.exit(f"no reload within {timeout:.0f} s; serve said:\n" + "\n".join(server.texts[-20:]))
        reloaded = time.perf_counter()
        assert message["command"] == "reload", message
        while marker not in server.get(page)[1]:
            await asyncio.sleep(0.005)
        shown = time.perf_counter()
        reloads.append((reloaded - started) * 1000)
        pages.append((shown - started) * 1000)
        await asyncio.sleep(0.4)  # let the site settle: no overlap between rounds
        while True:  # drop any late extra reload so the next round starts clean
            try:
                await asyncio.wait_for(conn.read_message(), 0.05)
            except asyncio.TimeoutError:
                break
    conn.close()
    return reloads, pages


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"{name}: median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms, "
        f"min {ordered[0]:.0f} ms, max {ordered[-1]:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--site", type=Path, help="a site folder (default: the example site)")
    source.add_argument("--stories", type=int, help="generate a corpus of N stories with bench/gen_corpus.py")
    parser.add_argument("--rounds", type=int, default=10, help="edits to time (default 10)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for one reload")
    parser.add_argument("--target-ms", type=float, help="exit 1 when the median edit-to-page exceeds it")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after the server starts before the first edit, as an editor "
        "opening the page would (serve prepares pages while idle); default 0",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        if args.stories:
            site = generate(args.stories, Path(tmp))
        else:
            site = copy_site(args.site or REPO, Path(tmp))
        started = time.perf_counter()
        server = Server(site)
        print(f"{site}: first build and start in {time.perf_counter() - started:.1f} s")
        try:
            story, page = pick_story(site, server)
            time.sleep(args.settle)
            reloads, pages = asyncio.run(measure(server, story, page, args.rounds, args.timeout))
        finally:
            server.stop()
        for line in server.texts:
            if "rebuilt" in line or "failed" in line or "error" in line:
                print(f"  serve: {line}")
        print(f"{args.rounds} edits of {story.relative_to(site)}")
        print(summary("edit -> reload message", reloads))
        print(summary("edit -> page rewritten", pages))
        builds = [float(m.group(1)) for m in map(BUILD_MS.search, server.texts) if m]
        if builds:  # the rest of the latency is noticing the change and telling the page
            print(summary("of which the build itself", builds))
    if args.target_ms is not None and statistics.median(pages) > args.target_ms:
        print(f"over the target of {args.target_ms:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
