"""docgen: the field tables of docs/content-format.md come from the field table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from site_gen import docgen
from site_gen.fields import KINDS, SITE_FIELDS

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "content-format.md"


def test_content_format_doc_is_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    assert docgen.update(text) == text, "run: python -m site_gen.docgen"


def test_the_check_command_agrees():
    proc = subprocess.run(
        [sys.executable, "-m", "site_gen.docgen", "--check", str(DOC)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("kind", [*KINDS, "site"])
def test_every_kind_has_its_table_in_the_doc(kind):
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- fields:{kind} -->\n")
    end = text.index(f"<!-- /fields:{kind} -->")
    table = text[start:end]
    fields = SITE_FIELDS if kind == "site" else KINDS[kind].fields
    for spec in fields:
        assert f"| `{spec.name}` |" in table
        assert spec.doc in table


def test_the_doc_covers_the_format():
    text = DOC.read_text(encoding="utf-8")
    for words in [
        "## Files and records",
        "### Ids",
        "read as written",
        "## Dates",
        "c. May 2023",
        "## Drafts",
        "## Markdown and escaping",
        "## site.yaml",
        "yaml.schemas",
        "site-gen schema stories",
        "# yaml-language-server: $schema=",
        "extra:",
    ]:
        assert words in text


def test_table_cells():
    table = docgen.field_table(KINDS["questions"].fields)
    lines = table.splitlines()
    assert lines[0] == "| field | type | required / default | what it is |"
    assert "| `status` | `open` \\| `answered` \\| `dropped` | default `open` | where it stands |" in lines
    assert "| `answer` | Markdown | required when status is answered | the answer |" in lines
    assert "| `topics` | list of topic ids, at least one | required | ids of its topics |" in lines
    assert "| `draft` | `true` or `false` | default `false` |" in table
    stories = docgen.field_table(KINDS["stories"].fields)
    assert "| `source` | mapping: `name` (R), `url`, `author`, `via` |  |" in stories
    assert "| `corrections` | list of mappings: `date` (R), `text` (R) |  |" in stories
    assert "| `speaker` | a person id | required |" in docgen.field_table(KINDS["quotes"].fields)
    for line in table.splitlines():
        assert len(re.split(r"(?<!\\)\|", line)) == 6, f"four cells: {line}"


STALE = """# Doc

<!-- fields:topics -->
| old | table |
<!-- /fields:topics -->

text between

{rest}
"""


def stale_doc() -> str:
    rest = "\n".join(f"<!-- fields:{k} -->\n<!-- /fields:{k} -->" for k in [*KINDS, "site"] if k != "topics")
    return STALE.format(rest=rest)


def test_update_rewrites_only_the_marked_tables():
    fresh = docgen.update(stale_doc())
    assert "| old | table |" not in fresh
    assert fresh.startswith("# Doc\n\n<!-- fields:topics -->\n| field | type |")
    assert "\ntext between\n" in fresh
    assert docgen.update(fresh) == fresh, "idempotent"
    for kind, table in docgen.tables().items():
        assert f"<!-- fields:{kind} -->\n{table}<!-- /fields:{kind} -->" in fresh


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda t: t.replace("<!-- fields:people -->\n<!-- /fields:people -->", ""),
            "no table marker for people",
        ),
        (
            lambda t: t + "<!-- fields:storys -->\n<!-- /fields:storys -->\n",
            "unknown table marker fields:storys",
        ),
        (lambda t: t.replace("<!-- /fields:events -->", ""), "<!-- fields:events --> has no matching"),
    ],
)
def test_bad_markers_are_reported(change, words):
    with pytest.raises(docgen.DocError, match=words.replace("(", r"\(")):
        docgen.update(change(stale_doc()))


def test_main_rewrites_a_stale_doc_and_check_fails_on_it(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(stale_doc(), encoding="utf-8")
    assert docgen.main(["--check", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == stale_doc(), "--check changes nothing"
    assert docgen.main([str(path)]) == 0
    assert docgen.main(["--check", str(path)]) == 0
    assert "| old | table |" not in path.read_text(encoding="utf-8")


def test_main_reports_a_missing_doc(tmp_path, capsys):
    assert docgen.main([str(tmp_path / "nope.md")]) == 2
    assert "nope.md: error:" in capsys.readouterr().err
