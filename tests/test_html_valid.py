"""Every page is valid HTML (Nu Html Checker); feeds and the sitemap are well-formed XML
with the right namespaces. Run on the example site and on the hostile-content fixture."""

# The fixtures come from readerkit; tests name them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from readerkit import VNU, Built, browser, example, hostile, sites  # noqa: F401

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def vnu_errors(paths: list[str]) -> list[dict[str, object]]:
    """The Nu Html Checker's errors for `paths`, in one Java run (it is slow to start)."""
    proc = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *paths],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = proc.stderr if proc.stderr.lstrip().startswith("{") else proc.stdout
    messages = json.loads(report)["messages"]
    assert proc.returncode == (1 if messages else 0), proc.stderr[-2000:]
    return [m for m in messages if m.get("type") in ("error", "non-document-error")]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None or not VNU.is_file(), reason="needs java and tests/js (npm)")
def test_every_page_of_both_sites_is_valid_html(sites: dict[str, Built]) -> None:  # noqa: F811
    files = [str(site.file(page)) for site in sites.values() for page in site.pages()]
    assert len(files) > 60  # every page of both sites, 404 and search included
    errors = vnu_errors(files)
    shown = [f"{urlsplit(str(m['url'])).path}:{m.get('lastLine')}: {m['message']}" for m in errors]
    assert not shown, "\n".join(shown[:40])


def test_checker_reports_broken_html(tmp_path) -> None:
    """The check itself can fail: a page with a duplicate id and a stray end tag."""
    if shutil.which("java") is None or not VNU.is_file():
        pytest.skip("needs java and tests/js (npm)")
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="en"><title>x</title><p id="a">1</p><p id="a">2</p></div>')
    messages = " ".join(str(m["message"]) for m in vnu_errors([str(bad)]))
    assert "Duplicate ID" in messages and "Stray end tag" in messages


def feeds(site: Built) -> list[str]:
    return sorted(p.relative_to(site.out).as_posix() for p in site.out.rglob("feed.xml"))


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_atom_feeds_are_well_formed_and_use_the_atom_namespace(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    paths = feeds(site)
    assert "feed.xml" in paths and len(paths) >= 3
    for rel in paths:
        root = ET.parse(site.out / rel).getroot()
        assert root.tag == f"{ATOM}feed", rel
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        # Every element is Atom's: nothing leaks in without a namespace.
        assert all(el.tag.startswith(ATOM) for el in root.iter()), rel
        for child in ("id", "title", "updated"):
            assert root.find(f"{ATOM}{child}") is not None, (rel, child)
        assert RFC3339.match(root.findtext(f"{ATOM}updated") or ""), rel
        self_link = [ln for ln in root.findall(f"{ATOM}link") if ln.get("rel") == "self"]
        assert self_link and self_link[0].get("href", "").endswith(rel)
        entries = root.findall(f"{ATOM}entry")
        assert entries, rel
        for entry in entries:
            assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}title") is not None
            updated = entry.findtext(f"{ATOM}updated") or ""
            assert RFC3339.match(updated), (rel, updated)
            datetime.fromisoformat(updated.replace("Z", "+00:00"))
            link = entry.find(f"{ATOM}link")
            assert link is not None and link.get("href", "").startswith(("https://", "http://"))


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_sitemap_is_well_formed_and_lists_the_pages(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    root = ET.parse(site.out / "sitemap.xml").getroot()
    assert root.tag == f"{SITEMAP}urlset"
    assert all(el.tag.startswith(SITEMAP) for el in root.iter())
    locs = [url.findtext(f"{SITEMAP}loc") or "" for url in root.findall(f"{SITEMAP}url")]
    base = site.html("").split('<link rel="canonical" href="', 1)[1].split('"', 1)[0]
    assert all(loc.startswith(base) for loc in locs)
    listed = {loc[len(base) :] for loc in locs}
    pages = {p for p in site.pages() if p.endswith("/") or p == ""}
    assert listed == pages
    assert "search/" in listed
