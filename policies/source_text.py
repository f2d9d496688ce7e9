"""A policy file's raw text before parsing: what document editors add that means
nothing, and the YAML front matter block with the line of each key."""

from __future__ import annotations

import re
from typing import Any

import yaml

#: What Google Docs, Notion and Word exports add that means nothing: non-breaking and
#: narrow spaces read as spaces; zero-width characters, a byte-order mark and bold/italic
#: markers (`**`, `__`) go. Applied before parsing, so lines and columns point into the
#: text the author sees in diagnostics.
_EXPORT_ARTEFACTS = str.maketrans(
    {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u200b": None, "\ufeff": None}
)
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def normalise_export(text: str) -> str:
    """A policy as exported from a document editor, as plain Markdown lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_EXPORT_ARTEFACTS)
    return _BOLD.sub(r"\2", text)


def split_front_matter(
    text: str,
) -> tuple[dict[str, Any], tuple[int, str] | None, dict[str, int], int]:
    """Return (meta, error, key → line, index of the first body line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, None, {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, (1, "the front matter starts with --- but never ends with ---"), {}, 0
    raw = "\n".join(lines[1:end])
    key_lines = {}
    for i, ln in enumerate(lines[1:end], start=2):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", ln)
        if m:
            key_lines[m.group(1)] = i
    try:
        meta = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        return {}, (line, f"the front matter is not valid YAML ({problem})"), key_lines, end + 1
    if not isinstance(meta, dict):
        return {}, (2, "the front matter must be `key: value` lines"), key_lines, end + 1
    return meta, None, key_lines, end + 1
