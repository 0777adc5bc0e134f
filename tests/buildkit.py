"""Helpers shared by the build tests: a fixture site, running builds, reading HTML.

The fixture site is small but touches every rule the build has to honour:
partial and qualified dates, date_text, a correction, questions in every
status with deadlines around the end of November 2025, drafts off by default.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

SITE_YAML = """\
title: Fixture Briefing
base_url: https://example.org/brief/
description: A fixture briefing for the build tests.
recent_days: 7
stale_after_days: 30
"""

# The deadline "2025-11" of open-nov makes it overdue from 2025-12-01 on.
BEFORE_DEADLINE = "2025-11-30"
AFTER_DEADLINE = "2025-12-01"

FIXTURE: dict[str, str] = {
    "content/topics/alpha.yaml": """\
title: Alpha affair
summary: The **alpha** affair, followed since 2023.
started: 2023
related: [beta]
""",
    "content/topics/beta.yaml": """\
title: Beta dispute
summary: A quiet dispute.
""",
    "content/topics/delta.yaml": """\
title: Delta stalled matter
summary: Active on paper, quiet for a long time.
""",
    "content/topics/gamma.yaml": """\
title: Gamma closed case
status: closed
summary: Closed long ago.
""",
    "content/people/ann.yaml": """\
name: Ann Example
role: Minister
org: Ministry of Examples
url: https://example.org/ann
""",
    "content/stories/year-only.yaml": """\
title: Alpha begins sometime in 2023
date: "2023"
topics: [alpha]
summary: Year-only story.
""",
    "content/stories/approx-may.yaml": """\
title: Approximate May story
date: 2023-05~
topics: [alpha]
summary: Approximately in May.
""",
    "content/stories/uncertain-year.yaml": """\
title: Uncertain year story
date: 2024?
topics: [alpha]
summary: Maybe 2024.
""",
    "content/stories/may-day.yaml": """\
title: A day in May 2023
date: 2023-05-01
topics: [alpha]
summary: The first of May.
""",
    "content/stories/before-vote.yaml": """\
title: Talks before the vote
date: 2025-11-20
date_text: before the vote
topics: [alpha, beta]
summary: Shown with its date text.
people: [ann]
""",
    "content/stories/corrected.yaml": """\
title: Corrected story
date: 2025-11-10
updated: 2025-11-12
topics: [alpha]
source:
  name: Example Wire
  url: https://example.org/wire
  author: A. Writer
summary: A story that was corrected.
body: |
  The body of the corrected story.
corrections:
  - date: 2025-11-25
    text: An earlier version gave the wrong **figure**.
""",
    "content/stories/timed.yaml": """\
title: Late-night statement
date: 2025-11-26T23:30:00-05:00
topics: [alpha]
summary: A statement with a time and an offset.
""",
    "content/stories/old-delta.yaml": """\
title: Old delta story
date: 2024-01-15
topics: [delta]
summary: Nothing since.
""",
    "content/events/events.yaml": """\
- id: hearing
  title: Hearing scheduled
  date: 2025-12-05
  topics: [alpha]
  summary: The next hearing.
- id: may-event
  title: May event
  date: 2023-05
  topics: [alpha]
- id: summit
  title: Summit
  date: 2026-03~
  topics: [alpha, beta]
""",
    "content/quotes/ann-says.yaml": """\
text: We will see.
speaker: ann
date: 2025-11-20
story: before-vote
context: At the press conference.
""",
    "content/quotes/ann-old.yaml": """\
text: An old remark.
speaker: ann
date: 2023-05-01
topics: [alpha]
source:
  name: Example Wire
""",
    "content/questions/open-nov.yaml": """\
question: Will alpha settle by the end of November?
topics: [alpha]
raised: 2025-11-02
deadline: 2025-11
resolution_criteria: A signed settlement.
why_it_matters: Everything hinges on it.
""",
    "content/questions/open-oct.yaml": """\
question: Will the October report appear?
topics: [alpha]
raised: 2025-09-01
deadline: 2025-10-15
""",
    "content/questions/open-later.yaml": """\
question: Will the summit happen?
topics: [alpha, beta]
raised: 2025-11-21
deadline: 2026-03
resolution_criteria: The summit takes place.
""",
    "content/questions/open-nodeadline.yaml": """\
question: Who leaked the memo?
topics: [beta]
raised: 2024-02-01
""",
    "content/questions/answered-one.yaml": """\
question: Did the minister resign?
topics: [alpha]
raised: 2025-10-01
deadline: 2025-11-15
status: answered
answered: 2025-11-24
answer: No, she **stayed**.
""",
    "content/questions/dropped-one.yaml": """\
question: Was there a second memo?
topics: [beta]
raised: 2024-03-01
status: dropped
""",
}


def write_files(root: Path, files: dict[str, str | None]) -> Path:
    """Write (or, for None, delete) files under `root`."""
    for rel, text in files.items():
        path = root / rel
        if text is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def fixture_site(root: Path, extra: dict[str, str | None] | None = None, site_yaml: str = SITE_YAML) -> Path:
    """The fixture site written at `root`, with `extra` files added, replaced or removed."""
    files: dict[str, str | None] = {"site.yaml": site_yaml, **FIXTURE}
    files.update(extra or {})
    root.mkdir(parents=True, exist_ok=True)
    return write_files(root, files)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()

    def __repr__(self) -> str:
        return f"Run(code={self.code}, stdout={self.stdout[-500:]!r}, stderr={self.stderr[-2000:]!r})"


def site_gen(
    *args: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120,
) -> Run:
    """Run the real CLI in a subprocess (SOURCE_DATE_EPOCH unset unless given)."""
    environ = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    environ.update(env or {})
    environ["PYTHONIOENCODING"] = "utf-8"
    proc = subprocess.run(
        [sys.executable, "-m", "site_gen", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environ,
        cwd=cwd,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def build(site: Path, as_of: str = BEFORE_DEADLINE, *args: str, out: Path | None = None) -> Path:
    """Build `site` with the CLI (asserting success); returns the output folder."""
    target = out or site / "output"
    run = site_gen("--site", site, "build", "--as-of", as_of, "--out", target, *args)
    assert run.code == 0, run
    return target


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def tree_digest(folder: Path) -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in tree(folder).items()}


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


# -- a small DOM, enough to ask questions of our own well-formed pages ----------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text with whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> list[Node]:
        found: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                found.append(child)
                found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        """Descendants with `tag` (any if None) whose attributes match.

        An attribute given as True must merely be present; `class_` matches one class.
        """
        result = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_matches(node, name, want) for name, want in attrs.items()):
                result.append(node)
        return result

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def by_id(self, ident: str) -> Node:
        return self.find(None, id=ident)

    def has(self, name: str) -> bool:
        return name in self.attrs


def _matches(node: Node, name: str, want: str | bool) -> bool:
    if name == "class_":
        return str(want) in (node.attrs.get("class") or "").split()
    name = name.replace("_", "-")
    if want is True:
        return name in node.attrs
    return node.attrs.get(name) == want


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def page(out: Path, rel: str) -> Node:
    """The parsed page at a URL path ("topics/alpha/") or file path."""
    path = rel if rel.endswith((".html", ".xml", ".json")) else rel.rstrip("/") + "/index.html"
    return parse_html(read(out, path.lstrip("/")))
