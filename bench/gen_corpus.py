"""Generate a synthetic briefing site for benchmarks, in site-gen's format.

    python bench/gen_corpus.py --stories 10000 --out /tmp/corpus-10k --seed 1

For N stories it writes N/100 topics, N/2 quotes, N/10 questions, N/10
events and N/50 people, spread over one year per 2,000 stories (ending in
November 2025) so that an archive grows the way a real one does: in time.
Each topic covers a window of about eighteen months; older topics are closed
or dormant. Text is Markdown with emphasis, links, lists, headings and quotes;
dates are mostly days, with some months, years, date-times, `~`/`?` and
`date_text`. Some records live in list files and in subfolders, a few stories
are drafts. The same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

AS_OF = date(2025, 11, 20)
STORIES_PER_YEAR = 2000
TOPIC_WINDOW_DAYS = 540

WORDS = (
    "tariff licence export control rare earth magnet gallium germanium graphite antimony supply chain "
    "smelter refinery quota ministry commerce talks truce negotiation deadline shipment customs port "
    "battery turbine motor defence industry price market shortage stockpile mine permit sanction "
    "summit envoy delegation statement briefing review exemption waiver enforcement audit investor "
    "factory output forecast analyst consultation parliament committee vote budget subsidy alliance"
).split()
ADJECTIVES = (
    "new strict temporary partial sweeping quiet sudden expected delayed revised joint unilateral "
    "formal informal fragile lasting narrow broad critical strategic regional global"
).split()
VERBS = (
    "announces tightens eases suspends extends confirms rejects proposes delays signs reviews "
    "questions defends drafts expands narrows publishes restores lifts imposes"
).split()
ACTORS = (
    "Beijing Washington Brussels Tokyo Seoul Canberra Ottawa Berlin Paris London Delhi Jakarta "
    "the commerce ministry the trade representative the customs agency regulators carmakers "
    "miners refiners importers exporters the central bank lawmakers negotiators"
).split(" ")
FIRST = "Ana Ben Chen Dara Eli Fay Gao Hana Ivan Jia Kofi Lena Mei Nadia Omar Priya Ravi Sara Tomas".split()
LAST = (
    "Abe Brandt Castillo Dubois Eriksen Fischer Garcia Huang Ito Jensen Kowalski Li Moreau Novak "
    "Okafor Park Rossi Singh Tanaka Walsh Xu Yilmaz Zhou"
).split()
ORGS = (
    "Ministry of Commerce|Office of the Trade Representative|European Commission|Institute for Supply "
    "Studies|Global Minerals Council|Department of Commerce|Customs Administration|Battery Makers "
    "Association|Rare Metals Exchange|Centre for Economic Security"
).split("|")
ROLES = "minister|spokesperson|analyst|chief negotiator|economist|director|senior fellow|envoy".split("|")
OUTLETS = (
    "Wire Service|Daily Ledger|Trade Monitor|Minerals Weekly|Evening Post|Policy Review|Market Desk"
).split("|")
TAGS = (
    "tariffs|licences|magnets|batteries|semiconductors|customs|talks|sanctions|mining|prices|"
    "defence|autos|wind power|stockpiles|enforcement"
).split("|")


@dataclass
class Topic:
    id: str
    start: date
    end: date
    stories: list[str] = field(default_factory=list)


class Writer:
    """YAML text in the spec's format: plain text double-quoted, Markdown as block scalars."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def text(self, key: str, value: str, indent: str = "") -> None:
        self.lines.append(f"{indent}{key}: {json.dumps(value, ensure_ascii=False)}")

    def raw(self, key: str, value: str, indent: str = "") -> None:
        self.lines.append(f"{indent}{key}: {value}")

    def markdown(self, key: str, value: str, indent: str = "") -> None:
        self.lines.append(f"{indent}{key}: |")
        pad = indent + "  "
        self.lines.extend(pad + line if line else "" for line in value.split("\n"))

    def items(self, key: str, values: list[str], indent: str = "") -> None:
        self.lines.append(f"{indent}{key}:")
        self.lines.extend(f"{indent}  - {json.dumps(v, ensure_ascii=False)}" for v in values)

    def ids(self, key: str, values: list[str], indent: str = "") -> None:
        self.lines.append(f"{indent}{key}:")
        self.lines.extend(f"{indent}  - {v}" for v in values)

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


class Corpus:
    def __init__(self, stories: int, seed: int) -> None:
        self.n = stories
        self.rng = random.Random(seed)
        years = max(1, math.ceil(stories / STORIES_PER_YEAR))
        self.first = date(AS_OF.year - years, AS_OF.month, AS_OF.day) + timedelta(days=1)
        self.span = (AS_OF - self.first).days
        self.used: set[str] = set()
        self.topics: list[Topic] = []
        self.people: list[str] = []
        self.published: list[tuple[date, str, list[str]]] = []  # (date, id, topics) of public stories
        self._by_id: dict[str, Topic] = {}
        self._starts: list[date] = []
        self._reach = 0

    # -- small pieces -----------------------------------------------------

    def slug(self, words: list[str]) -> str:
        base = "-".join(w.lower() for w in words if w.isalnum())[:60].strip("-") or "item"
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        return candidate

    def sentence(self, words: int = 12) -> str:
        rng = self.rng
        actor = rng.choice(ACTORS)
        body = " ".join(rng.choice(WORDS) for _ in range(words))
        text = f"{actor} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {body}"
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: int) -> str:
        rng = self.rng
        parts = [self.sentence(rng.randint(6, 16)) for _ in range(sentences)]
        if rng.random() < 0.5:
            i = rng.randrange(len(parts))
            parts[i] = parts[i].replace(" the ", " **the** ", 1)
        if rng.random() < 0.3:
            i = rng.randrange(len(parts))
            word = rng.choice(WORDS)
            parts[i] += f" See the [{word} notice](https://example.org/{word}/{rng.randint(1, 9999)})."
        if rng.random() < 0.15:
            parts.append(f"It is *{rng.choice(ADJECTIVES)}*, officials said.")
        return _wrap(" ".join(parts))

    def prose(self, paragraphs: int) -> str:
        rng = self.rng
        blocks = []
        for index in range(paragraphs):
            roll = rng.random()
            if index and roll < 0.1:
                blocks.append(f"### {rng.choice(ADJECTIVES).capitalize()} {rng.choice(WORDS)}")
            if index and roll > 0.9:
                blocks.append("\n".join(f"- {self.sentence(rng.randint(4, 8))}" for _ in range(3)))
                continue
            if index and 0.85 < roll <= 0.9:
                blocks.append("> " + self.sentence(10))
                continue
            blocks.append(self.paragraph(rng.randint(2, 4)))
        return "\n\n".join(blocks)

    def day(self, low: date, high: date) -> date:
        days = max(0, (high - low).days)
        return low + timedelta(days=self.rng.randint(0, days))

    def written(self, when: date, allow_instant: bool = True) -> str:
        """A date as an editor would write it: mostly a day, sometimes vaguer or an instant."""
        roll = self.rng.random()
        if roll < 0.02:
            return f"{when.year}-{when.month:02d}"
        if roll < 0.025:
            return f"{when.year}"
        if roll < 0.035:
            return f"{when.isoformat()}~"
        if roll < 0.04:
            return f"{when.year}-{when.month:02d}?"
        if allow_instant and roll < 0.06:
            hour, minute = self.rng.randint(0, 23), self.rng.choice((0, 15, 30))
            return f"{when.isoformat()}T{hour:02d}:{minute:02d}:00+0{self.rng.randint(0, 9)}:00"
        return when.isoformat()

    def topics_at(self, when: date, count: int) -> list[str]:
        covering = [t for t in self._candidates(when) if t.start <= when <= t.end]
        if not covering:
            covering = [min(self.topics, key=lambda t: abs((t.start - when).days))]
        chosen = self.rng.sample(covering, min(count, len(covering)))
        return [t.id for t in chosen]

    def _candidates(self, when: date) -> list[Topic]:
        i = bisect.bisect_right(self._starts, when)
        return self.topics[max(0, i - self._reach) : i + 1]

    def stories_near(self, topic_ids: list[str], count: int) -> list[str]:
        by_id = {t.id: t for t in self.topics} if len(self._by_id) != len(self.topics) else self._by_id
        self._by_id = by_id
        pool = [s for t in topic_ids for s in by_id[t].stories]
        return sorted(set(self.rng.sample(pool, min(count, len(pool))))) if pool else []


def _wrap(text: str, width: int = 78) -> str:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])


def _write(out: Path, rel: str, text: str) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate(stories: int, out: Path, seed: int = 1) -> dict[str, int]:
    """Write the corpus into `out` (emptied first); returns the count of records per kind."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    c = Corpus(stories, seed)
    _site_yaml(out, stories)
    counts = {
        "topics": _topics(c, out),
        "people": _people(c, out),
    }
    counts["stories"] = _stories(c, out)
    counts["quotes"] = _quotes(c, out)
    counts["questions"] = _questions(c, out)
    counts["events"] = _events(c, out)
    return counts


def _site_yaml(out: Path, stories: int) -> None:
    _write(
        out,
        "site.yaml",
        f"title: Synthetic Briefing ({stories} stories)\n"
        "base_url: https://example.org/bench/\n"
        "description: A generated briefing for measuring site-gen.\n"
        "language: en\n"
        "timezone: Europe/London\n"
        "recent_days: 7\n"
        "stale_after_days: 3650\n",
    )
    _write(out, ".gitignore", "output/\n.site-gen-cache/\n")


def _topics(c: Corpus, out: Path) -> int:
    count = max(1, c.n // 100)
    step = max(1, (c.span - TOPIC_WINDOW_DAYS) // max(1, count - 1)) if c.span > TOPIC_WINDOW_DAYS else 0
    for i in range(count):
        start = c.first + timedelta(days=min(i * step, max(0, c.span - TOPIC_WINDOW_DAYS)))
        end = start + timedelta(days=TOPIC_WINDOW_DAYS)
        if i == count - 1 or end > AS_OF:
            end = AS_OF
        words = [c.rng.choice(ADJECTIVES), c.rng.choice(WORDS), c.rng.choice(WORDS)]
        topic = Topic(c.slug(words), start, end)
        c.topics.append(topic)
    c._starts = [t.start for t in c.topics]
    c._reach = max(2, TOPIC_WINDOW_DAYS // max(1, step) + 2) if step else len(c.topics)
    for i, topic in enumerate(c.topics):
        w = Writer()
        w.text("title", " ".join(topic.id.split("-")[:3]).capitalize() + f" ({topic.start.year})")
        age = (AS_OF - topic.end).days
        w.raw("status", "active" if age < 60 else "dormant" if age < 400 else "closed")
        w.raw("started", c.written(topic.start, allow_instant=False))
        if c.rng.random() < 0.7:
            w.items("tags", c.rng.sample(TAGS, 2))
        near = [t.id for t in c.topics[max(0, i - 3) : i + 3] if t.id != topic.id]
        if near and c.rng.random() < 0.5:
            w.ids("related", c.rng.sample(near, min(2, len(near))))
        w.markdown("summary", c.prose(2))
        folder = "content/topics/" + ("archive/" if i % 3 == 0 else "")
        _write(out, f"{folder}{topic.id}.yaml", w.render())
    return count


def _people(c: Corpus, out: Path) -> int:
    count = max(3, c.n // 50)
    for _ in range(count):
        first, last = c.rng.choice(FIRST), c.rng.choice(LAST)
        pid = c.slug([first, last])
        c.people.append(pid)
        w = Writer()
        w.text("name", f"{first} {last}")
        if c.rng.random() < 0.8:
            w.text("role", c.rng.choice(ROLES))
        if c.rng.random() < 0.7:
            w.text("org", c.rng.choice(ORGS))
        if c.rng.random() < 0.3:
            w.raw("url", f"https://example.org/people/{pid}")
        _write(out, f"content/people/{pid[0]}/{pid}.yaml", w.render())
    return count


def _stories(c: Corpus, out: Path) -> int:
    rng = c.rng
    for _ in range(c.n):
        when = c.day(c.first, AS_OF)
        words = [rng.choice(ACTORS).split()[-1], rng.choice(VERBS), rng.choice(ADJECTIVES), rng.choice(WORDS)]
        sid = c.slug(words + [rng.choice(WORDS)])
        topics = c.topics_at(when, 1 + (rng.random() < 0.3) + (rng.random() < 0.05))
        draft = rng.random() < 0.003
        w = Writer()
        w.text("title", " ".join(words).capitalize() + f" {rng.choice(WORDS)}")
        w.raw("date", c.written(when))
        if rng.random() < 0.02:
            w.text("date_text", "before the " + rng.choice(WORDS) + " vote")
        w.ids("topics", topics)
        w.lines.append("source:")
        w.text("name", rng.choice(OUTLETS), "  ")
        if rng.random() < 0.8:
            w.raw("url", f"https://example.org/news/{sid}", "  ")
        if rng.random() < 0.3:
            w.text("author", f"{rng.choice(FIRST)} {rng.choice(LAST)}", "  ")
        if rng.random() < 0.5:
            w.ids("people", sorted(set(rng.sample(c.people, rng.randint(1, min(3, len(c.people)))))))
        if rng.random() < 0.6:
            w.items("tags", rng.sample(TAGS, rng.randint(1, 3)))
        w.markdown("summary", c.paragraph(rng.randint(2, 3)))
        if rng.random() < 0.6:
            w.markdown("body", c.prose(rng.randint(1, 4)))
        if rng.random() < 0.05:
            w.raw("updated", (when + timedelta(days=rng.randint(1, 20))).isoformat())
        if rng.random() < 0.02:
            w.lines.append("corrections:")
            w.raw("- date", (when + timedelta(days=rng.randint(1, 5))).isoformat(), "  ")
            w.markdown("text", "An earlier version misstated the " + rng.choice(WORDS) + ".", "    ")
        if draft:
            w.raw("draft", "true")
        else:
            c.published.append((when, sid, topics))
        _write(out, f"content/stories/{when.year}/{when.month:02d}/{sid}.yaml", w.render())
    by_id = {t.id: t for t in c.topics}
    for _, sid, topics in c.published:
        for topic in topics:
            by_id[topic].stories.append(sid)
    c.published.sort()
    return c.n


def _quotes(c: Corpus, out: Path) -> int:
    rng = c.rng
    count = c.n // 2
    batch: list[str] = []
    for index in range(count):
        w = Writer()
        qid = c.slug(["q", rng.choice(WORDS), rng.choice(WORDS), str(index)])
        indent = "  " if index % 10 < 3 else ""
        if rng.random() < 0.6 and c.published:
            when, story, _ = rng.choice(c.published)
            w.text("text", c.sentence(rng.randint(8, 20)), indent)
            w.raw("speaker", rng.choice(c.people), indent)
            w.raw("date", c.written(when + timedelta(days=rng.randint(0, 2)), allow_instant=False), indent)
            w.raw("story", story, indent)
        else:
            when = c.day(c.first, AS_OF)
            w.text("text", c.sentence(rng.randint(8, 20)), indent)
            w.raw("speaker", rng.choice(c.people), indent)
            w.raw("date", c.written(when), indent)
            w.ids("topics", c.topics_at(when, 1), indent)
            w.lines.append(f"{indent}source:")
            w.text("name", rng.choice(OUTLETS), indent + "  ")
        if rng.random() < 0.4:
            w.text("context", c.sentence(8), indent)
        if indent:
            # Three quotes in ten go into small list files of three.
            w.lines[0] = f"- id: {qid}\n  " + w.lines[0][2:]
            batch.append(w.render())
            if len(batch) == 3:
                _write(out, f"content/quotes/lists/{qid}.yaml", "".join(batch))
                batch = []
        else:
            _write(out, f"content/quotes/{when.year}/{qid}.yaml", w.render())
    if batch:
        _write(out, "content/quotes/lists/rest.yaml", "".join(batch))
    return count


def _questions(c: Corpus, out: Path) -> int:
    rng = c.rng
    count = max(1, c.n // 10)
    for _ in range(count):
        raised = c.day(c.first, AS_OF - timedelta(days=3))
        topics = c.topics_at(raised, 1 + (rng.random() < 0.2))
        words = [rng.choice(ACTORS).split()[-1], rng.choice(VERBS), rng.choice(WORDS)]
        qid = c.slug(["will"] + words)
        w = Writer()
        w.text("question", f"Will {' '.join(words)} the {rng.choice(ADJECTIVES)} {rng.choice(WORDS)}?")
        w.ids("topics", topics)
        w.raw("raised", raised.isoformat())
        deadline = raised + timedelta(days=rng.randint(14, 200)) if rng.random() < 0.7 else None
        if deadline:
            w.raw("deadline", deadline.isoformat() if rng.random() < 0.9 else deadline.strftime("%Y-%m"))
        past = deadline is not None and deadline < AS_OF - timedelta(days=31)
        status = "open"
        if past or (deadline is None and raised < AS_OF - timedelta(days=365)):
            status = rng.choices(("answered", "dropped", "open"), (0.75, 0.15, 0.1))[0]
        w.raw("status", status)
        if status == "answered":
            w.raw("answered", c.day(raised, min(AS_OF, deadline or AS_OF)).isoformat())
            w.markdown("answer", f"**{rng.choice(('Yes', 'No', 'Partly'))}.** " + c.paragraph(2))
        if rng.random() < 0.5:
            w.markdown("why_it_matters", c.paragraph(1))
        if rng.random() < 0.5:
            w.markdown("resolution_criteria", c.paragraph(1))
        related = c.stories_near(topics, rng.randint(0, 3))
        if related:
            w.ids("stories", related)
        _write(out, f"content/questions/{raised.year}/{qid}.yaml", w.render())
    return count


def _events(c: Corpus, out: Path) -> int:
    rng = c.rng
    count = max(1, c.n // 10)
    by_year: dict[int, list[str]] = {}
    for _ in range(count):
        when = c.day(c.first, AS_OF + timedelta(days=120))
        topics = c.topics_at(min(when, AS_OF), 1)
        words = [rng.choice(ADJECTIVES), rng.choice(WORDS), rng.choice(WORDS)]
        eid = c.slug(words + ["event"])
        w = Writer()
        w.raw("- id", eid)
        w.text("title", " ".join(words).capitalize() + " takes effect", "  ")
        w.raw("date", c.written(when, allow_instant=False), "  ")
        w.ids("topics", topics, "  ")
        if rng.random() < 0.7:
            w.markdown("summary", c.sentence(14), "  ")
        related = c.stories_near(topics, rng.randint(0, 2))
        if related:
            w.ids("stories", related, "  ")
        by_year.setdefault(when.year, []).append(w.render())
    for year, items in by_year.items():
        # Events of a year in list files of at most fifty.
        for start in range(0, len(items), 50):
            rel = f"content/events/{year}/events-{start // 50 + 1:03d}.yaml"
            _write(out, rel, "".join(items[start : start + 50]))
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000, help="number of stories (default 1000)")
    parser.add_argument("--out", required=True, help="folder to write the site into (emptied first)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    counts = generate(args.stories, Path(args.out), args.seed)
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()), f"in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
