"""The title a pasted SOP gives itself: its first heading that names no section ("When
to use", "Steps", "Notes" …), else its first line when that line reads as a title
("Late Delivery – Tracking Check", not "Use this when …." or "Applies to: …"). The
compiler takes it when the front matter has no `title`."""

from __future__ import annotations

import re

#: Headings that name a part of an SOP rather than the SOP itself.
SECTION_HEADING = re.compile(
    r"^(?:when\b|use\b|usage|overview|description|purpose|scope|applies to|who\b|"
    r"(?:policy\s+)?(?:logic|steps|procedure|process|example logic)|notes?\b|background|"
    r"context|summary|escalations?\b|examples?\b|faq|macros?\b|references?\b)",
    re.I,
)
#: A line that is a list item, a label ("Applies to: …") or a sentence is no title.
_NOT_A_TITLE = re.compile(r"^(?:[-*+•·]|\(?\w{1,3}[.)]\s|step\s+\d)|:|[.!?;,]$|[@#$]", re.I)
_MAX_WORDS = 10


def title_like(text: str) -> bool:
    """Short, with no final full stop, no label colon, no list marker, no reference."""
    text = text.strip()
    return bool(text) and len(text.split()) <= _MAX_WORDS and not _NOT_A_TITLE.search(text)


def document_title(
    headings: list[tuple[int, str]], first_line: tuple[int, str] | None, before: int
) -> tuple[str, int]:
    """(title, its 1-based line), or ("", 0): the first heading above line `before` (where
    the steps start) that is not a section heading, else the first body line if it reads
    as a title."""
    for line, text in headings:
        if line < before and text and not SECTION_HEADING.match(text):
            return text, line
    if first_line is not None and first_line[0] < before and title_like(first_line[1]):
        return first_line[1].strip(), first_line[0]
    return "", 0
