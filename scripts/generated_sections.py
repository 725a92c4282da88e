"""Sections of template.yaml written by a generator between two marker lines (the functions' log
groups, the event schema registry): replaced whole, and rewritten only when they drift."""

from __future__ import annotations

import re
from collections.abc import Callable

from scripts import sam_template


def replace_section(text: str, begin: str, end: str, body: str, what: str) -> str:
    """``text`` with what lies between the ``begin`` and ``end`` lines made ``body``."""
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"template.yaml has no generated {what} section markers")
    return pattern.sub(lambda _: begin + body + end, text)


def rewrite_template(render: Callable[[str], str], what: str) -> int:
    """Writes ``render(text)`` over template.yaml when it differs; the generators' main."""
    text = sam_template.TEMPLATE.read_text()
    rendered = render(text)
    if rendered != text:
        sam_template.TEMPLATE.write_text(rendered)
        print(f"rewrote the {what} in {sam_template.TEMPLATE.name}")
    return 0
