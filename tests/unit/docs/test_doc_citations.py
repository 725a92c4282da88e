"""Comments, docstrings, the template and the docs cite sections of the documentation by name, as
``(docs/api/auth.md, "Sessions")`` or ``docs/deploy.md#rollback``: every cited page, section and
anchor must exist, so that a section moved (as the README's were, to docs/) cannot leave
citations pointing at nothing. A README citation must name one of the README's own sections."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SUFFIXES = {".py", ".yaml", ".yml", ".md", ".cjs", ".mjs", ".json", ".toml"}
SKIPPED_DIRS = {"node_modules", "build", "dist", "__pycache__"}
SKIPPED_FILES = {"package-lock.json"}
# A page (README or a docs/ page), an optional anchor, then an optional quoted section name.
CITATION = re.compile(
    r"(?<![\w/.\"-])(?P<page>README(?:\.md)?|docs/[\w./-]+?\.md)(?![\w\"])"
    r"(?P<anchor>#[\w-]+)?"
    r"(?P<after>,? \"(?P<section>[^\"]+)\"|, (?P<unquoted>[A-Z][\w-]*)|,? ?\))?"
)


def _sources() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in parts[:-1]):
            continue
        if path.name in SKIPPED_FILES or not path.is_file():
            continue
        if path == Path(__file__).resolve():  # its probes cite nothing on purpose
            continue
        if path.suffix in SUFFIXES or path.name == "Makefile":
            yield path


def _flattened(text: str) -> str:
    """The text with line breaks, comment markers and JSON escapes between words removed, so a
    citation wrapped over two comment lines reads as one."""
    text = text.replace('\\"', '"')
    return re.sub(r"\s*\n\s*(?:#+|//|\*)?\s*", " ", text)


def _slug(heading: str) -> str:
    """The anchor mkdocs (Python-Markdown's toc) gives a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


@cache
def _sections(page: str) -> tuple[frozenset[str], frozenset[str]]:
    """(section names, anchors) of a page: its headings (also without a trailing parenthesis)
    and its bold terms, which lead the paragraphs of some pages."""
    text = (ROOT / page).read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # `# comments` in code are no headings
    names: set[str] = set()
    anchors: set[str] = set()
    for line in re.findall(r"^#+ (.+?)\s*$", text, re.MULTILINE):
        explicit = re.search(r"\{#([\w-]+)\}$", line)
        heading = re.sub(r"\s*\{#[\w-]+\}$", "", line).replace("`", "")
        anchors.add(explicit.group(1) if explicit else _slug(heading))
        names.update({heading, re.sub(r"\s*\([^)]*\)$", "", heading)})
    names.update(term.rstrip(":.") for term in re.findall(r"\*\*([^*\n]+)\*\*", text))
    return frozenset(names), frozenset(anchors)


def _problems(where: str, text: str) -> Iterator[str]:
    for match in CITATION.finditer(_flattened(text)):
        page = "README.md" if match["page"].startswith("README") else match["page"]
        cited = match.group(0)
        if not (ROOT / page).is_file():
            yield f"{where}: {cited!r} cites a page that does not exist"
            continue
        names, anchors = _sections(page)
        if match["anchor"] and match["anchor"][1:] not in anchors:
            yield f"{where}: {cited!r}: {page} has no such anchor"
        if match["section"]:
            if match["section"] not in names:
                yield f"{where}: {cited!r}: {page} has no section {match['section']!r}"
        elif match["unquoted"]:
            yield f'{where}: {cited!r}: quote the section\'s name, as in {page}, "Section"'
        elif page == "README.md" and match["after"]:
            yield f"{where}: {cited!r} names no section: cite the page that holds the text"


def test_given_every_source_file_then_each_cited_page_section_and_anchor_exists() -> None:
    problems = [
        problem
        for path in _sources()
        for problem in _problems(str(path.relative_to(ROOT)), path.read_text(errors="replace"))
    ]

    assert problems == []


@pytest.mark.parametrize(
    "text",
    [
        '# the rule (README, "Ordering and duplicates")',
        '# moved (docs/api/auth.md, "Sesions")',
        "# (see docs/deploy.md#no-such-anchor)",
        '"""Per-source limits (docs/api/nowhere.md)."""',
        "# a README citation with no section (README)",
        "# an unquoted section (docs/api/auth.md, Passwords)",
    ],
)
def test_given_a_citation_of_nothing_then_it_is_found(text: str) -> None:
    assert list(_problems("probe.py", text)) != []


def test_given_citations_of_what_exists_then_nothing_is_found() -> None:
    text = (
        '# (docs/api/auth.md, "Passwords"), docs/deploy.md#rollback, (docs/api/recovery.md,\n'
        '# "No mail bombing"), README.md, "Getting started", docs/local.md, the README\'s walk'
    )

    assert list(_problems("probe.py", text)) == []


def test_given_a_citation_wrapped_over_comment_lines_then_it_is_checked_whole() -> None:
    text = '# password hashing (docs/api/auth.md,\n# "Passwords") and\n# (docs/events.md, "Nope")'

    found = [m["section"] for m in CITATION.finditer(_flattened(text))]

    assert found == ["Passwords", "Nope"]
