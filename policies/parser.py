"""Parse a policy file into front matter, a "when to use" text and a tree of steps.

markdown-it-py does the block structure (lists, nesting, headings, line maps). CX
exports are rarely clean Markdown, so a second pass over each block's lines restores
what the export lost: lettered sub-steps (`a.`) at line start or run inline, `•`
bullets, bullets glued after a colon (`If the user accepts: - Apply …`), lone `-`
lines and run-on `… -` endings that stand for lost numbering. The result is a tree of
`Step`s, each with its 1-based line and column, ready for the compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from markdown_it import MarkdownIt

from policies.document_title import document_title
from policies.source_text import normalise_export, split_front_matter
from policies.step_numbering import ROMAN_VALUES, label_steps

Marker = Literal["number", "letter", "bullet", "none", "empty"]

_MD = MarkdownIt("commonmark").disable(["code", "lheading", "html_block", "hr"])

# "a.", "a)", "(a)", and roman "i." … "viii." (sub-steps in Word outlines)
_LETTER_START = re.compile(r"^\(?([a-h]|i{1,3}|iv|vi{0,3})[.)]\s+")
# "1.", "1)", "(1)", "Step 1:", "Step 1 -", "1 -"
_NUMBER_START = re.compile(r"^(?:step\s+)?\(?(\d{1,2})(?:[.):]|\s+[-–—])\s+", re.I)
# bullets, and Notion / Google Docs checklists: "[ ]", "[x]", "☐"
_BULLET_START = re.compile(r"^(?:[•·▪◦☐☑✓✔]|\[[ xX]?\]|[-*+](?=\s))\s*")
_INLINE_LETTER = re.compile(r"(?<=[.:!?”\"])\s+([a-h])\.\s+(?=[A-Z“\"@#$])")
_COLON_BULLET = re.compile(r":\s*-\s*(?=\S)")
_INLINE_OPTION = re.compile(r"(?<=[.!?”\"])\s+[-–•]\s+(?=[A-Z][^:.@#$]{0,40}:\s)")
_OFFER_DASH = re.compile(
    r"(\b(?:offer|present|propose)\b[^:\-–]*?) [-–] (?=[A-Z][^:.@#$]{0,40}:\s)", re.I
)
_RUN_ON = re.compile(r"\s*(?<!-)-$")
_CONDITIONAL = re.compile(r"^(?:if|when|in (?:the )?cases? (?:where|when)|otherwise|else)\b", re.I)
_REF = re.compile(r"[@#$]")
_LOGIC_HEADINGS = re.compile(r"^(?:policy\s+)?(?:logic|steps|procedure|example logic)\b", re.I)
#: How a step that does something starts; a short line without a full stop that starts
#: otherwise ("Confirm the damage", "Find the subscriber") is a section title in an export.
_RUNNABLE = re.compile(
    r"^(?:ask|request|collect|find out|inform|notify|tell|let|thank|route|escalate|transfer|"
    r"assign|offer|present|propose|provide|give|use|call|run|proceed|continue|follow|end|close|"
    r"send|reply|respond|say|reship|refund|issue|apply|cancel|skip|swap|exchange|restart|"
    r"reactivate|pause|file|open|update|upgrade|check|verify|look up|mark|set|create|process|"
    r"hand|apologi[sz]e|explain|remind|reassure|acknowledge|otherwise|else|greet|welcome|wait|"
    r"review|gather|get|obtain|search|determine|document|log|add|remove|tag|note|"
    r"confirm (?:with|that|the (?:customer|user)|whether|if))\b",
    re.I,
)
_WHEN_HEADINGS = re.compile(r"^(?:when|use|overview|description)", re.I)
#: A paragraph line that is only a section name ("Steps:") acts as its heading.
_SECTION_LABEL = re.compile(r"^(?:policy\s+)?(?:logic|steps|procedure|when to use)\s*:$", re.I)


@dataclass
class Step:
    """One step as written: its text, where it is, and its sub-steps."""

    text: str
    line: int
    column: int
    marker: Marker
    label: str = ""
    children: list[Step] = field(default_factory=list)
    pending: bool = False  # came right after a lone "-" (lost numbering)
    depth: int = 0
    indent: int = 0  # spaces before the line's first character, tabs as four

    @property
    def conditional(self) -> bool:
        return bool(_CONDITIONAL.match(self.text))

    @property
    def container(self) -> bool:
        return self.text.rstrip().endswith(":")

    @property
    def header(self) -> bool:
        """A section title such as "Confirm Retention Decision" or "Escalation:"."""
        text = self.text.strip()
        if not text or _REF.search(text) or self.conditional or self.marker == "letter":
            return False
        body = text.rstrip(":").strip()
        words = body.split()
        if not words or len(words) > 6 or body[-1:] in '.!?”"),':
            return False
        if text.endswith(":") and ":" in body:
            return False
        capitals = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
        small = {"a", "an", "the", "and", "or", "of", "from", "to", "for", "with", "in", "on"}
        title_case = all(w[:1].isupper() or w.lower() in small for w in words)
        return (
            title_case
            or (text.endswith(":") and capitals == len(words) and len(words) <= 3)
            or (len(words) <= 5 and words[0][:1].isupper() and not _RUNNABLE.match(body))
        )

    @property
    def labelled(self) -> bool:
        """Shaped like an option: "Discount Offer: Use …"."""
        head, sep, rest = self.text.partition(":")
        return bool(sep and rest.strip() and 0 < len(head.split()) <= 4 and not _REF.search(head))


@dataclass
class ParsedPolicy:
    meta: dict[str, Any]
    meta_error: tuple[int, str] | None
    meta_lines: dict[str, int]
    when_to_use: str
    steps: list[Step]
    lines: list[str]
    body_start: int
    title: str = ""  # the document's own title line, if it has one


@dataclass
class _Line:
    text: str
    line: int
    column: int
    marker: Marker
    label: str = ""
    depth: int = 0
    indent: int = 0


def _block_lines(text: str, offset: int) -> tuple[list[_Line], list[tuple[int, str]]]:
    """Lines of the body with the marker markdown-it saw, plus (line, text) of headings."""
    source = text.split("\n")
    tokens = _MD.parse("\n".join(source[offset:]))
    out: list[_Line] = []
    headings: list[tuple[int, str]] = []
    list_stack: list[str] = []
    item_marker: list[tuple[Marker, str]] = []
    fresh_item = False
    for i, tok in enumerate(tokens):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_stack.append(tok.type)
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif tok.type == "list_item_open":
            ordered = list_stack and list_stack[-1] == "ordered_list_open"
            item_marker.append(("number", tok.info) if ordered else ("bullet", tok.markup))
            fresh_item = True
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.type == "list_item_close" and tok.map:
                out.append(_Line("", tok.map[0] + offset + 1, 1, "empty", "", len(list_stack) - 1))
        elif tok.type == "list_item_close":
            item_marker.pop()
            fresh_item = False
        elif tok.type == "heading_open" and tok.map:
            inline = tokens[i + 1]
            headings.append((tok.map[0] + offset + 1, inline.content.strip()))
            out.append(_Line(inline.content.strip(), tok.map[0] + offset + 1, 1, "empty", "#"))
        elif tok.type == "inline" and tok.map and tokens[i - 1].type == "paragraph_open":
            for j, content in enumerate(tok.content.split("\n")):
                lineno = tok.map[0] + offset + j + 1
                raw = source[lineno - 1] if lineno - 1 < len(source) else content
                stripped = content.strip()
                column = raw.find(stripped) + 1 if stripped else 1
                marker: Marker = "none"
                label = ""
                if j == 0 and fresh_item and item_marker:
                    marker, label = item_marker[-1]
                depth = max(0, len(list_stack) - 1)
                indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
                out.append(_Line(stripped, lineno, max(1, column), marker, label, depth, indent))
            fresh_item = False
    return out, headings


def _segments(line: _Line) -> list[_Line]:
    """Split one physical line into the steps it really holds."""
    text = line.text
    marker, label, column = line.marker, line.label, line.column
    if marker in ("none", "bullet") and text in ("-", "–", "•"):
        return [_Line("", line.line, column, "empty", "", line.depth)]
    if marker in ("none",):
        for pattern, kind in (
            (_LETTER_START, "letter"),
            (_NUMBER_START, "number"),
            (_BULLET_START, "bullet"),
        ):
            m = pattern.match(text)
            if m:
                marker = kind  # type: ignore[assignment]
                label = m.group(1) if m.groups() else "-"
                text, column = text[m.end() :], column + m.end()
                break
    if marker == "none" and _BULLET_START.match(text):
        m = _BULLET_START.match(text)
        assert m is not None
        marker, label, text, column = "bullet", "-", text[m.end() :], column + m.end()
    trailing_dash = bool(_RUN_ON.search(text)) and len(text) > 1
    if trailing_dash:
        text = _RUN_ON.sub("", text)
    pieces: list[_Line] = []
    # inline lettered sub-steps: "… Alternatives. a. Once the order …"
    cuts = [(m.start(), m.end(), m.group(1)) for m in _INLINE_LETTER.finditer(text)]
    starts = [(0, marker, label)] + [(end, "letter", lab) for _, end, lab in cuts]
    ends = [c[0] for c in cuts] + [len(text)]
    for (start, mk, lb), end in zip(starts, ends, strict=True):
        chunk = text[start:end]
        # bullets glued after a colon: "If the user accepts: - Apply …"
        if _OFFER_DASH.search(chunk):  # "Offer a choice - Replacement: …" (lost colon)
            chunk = _OFFER_DASH.sub(r"\1:- ", chunk, count=1)
        glued = _COLON_BULLET.split(chunk)
        # (part, whether a colon ended it); options may run inline after the colon:
        # "… choice:- Replacement: Reship … - Refund: Issue …"
        sub: list[tuple[str, bool]] = []
        for g, part in enumerate(glued):
            options = _INLINE_OPTION.split(part) if g else [part]
            sub += [
                (opt, o == len(options) - 1 and g < len(glued) - 1) for o, opt in enumerate(options)
            ]
        offset = start
        for k, (part, colon) in enumerate(sub):
            col = column + text.find(part, offset) if part else column + offset
            clean = part.strip()
            if clean:
                suffix = ":" if colon else ""
                pieces.append(
                    _Line(
                        clean + suffix,
                        line.line,
                        col,
                        mk if k == 0 else "bullet",
                        lb if k == 0 else "-",
                        line.depth,
                    )
                )
            offset = max(offset, text.find(part, offset) + len(part))
    if trailing_dash:
        pieces.append(_Line("", line.line, column + len(text), "empty", "", line.depth))
    for piece in pieces:
        piece.indent = line.indent
    return pieces or [_Line("", line.line, column, "empty", "", line.depth)]


def _is_continuation(prev: Step | None, seg: _Line) -> bool:
    if prev is None or seg.marker != "none" or not prev.text:
        return False
    if seg.text[:1].isupper() and _CONDITIONAL.match(seg.text):
        return False  # "If the customer picks …" on its own line starts a step
    return not re.search(r"[.:!?”\")]$", prev.text) and not Step(seg.text, 0, 0, "none").header


def build_tree(lines: list[_Line]) -> list[Step]:
    """Rebuild the step hierarchy from flat, possibly messy lines."""
    top: list[Step] = []
    current_top: Step | None = None
    stack: list[Step] = []  # open containers (items ending in ":"), innermost last
    last: Step | None = None
    pending = False
    by_depth: dict[int, Step] = {}
    last_letter: Step | None = None  # the latest lettered sub-step of the current step
    for raw in lines:
        for seg in _segments(raw):
            if seg.marker == "empty":
                pending = seg.label != "#" or pending
                if seg.label == "#":  # a heading inside the logic closes everything
                    current_top, stack, last = None, [], None
                continue
            if _is_continuation(last, seg) and not pending:
                assert last is not None
                last.text = f"{last.text} {seg.text}"
                continue
            step = Step(
                seg.text,
                seg.line,
                seg.column,
                seg.marker,
                seg.label,
                pending=pending,
                depth=seg.depth,
                indent=seg.indent,
            )
            pending = False
            parent: Step | None = None
            if step.marker == "number" and seg.depth == 0:
                parent = None
            elif step.marker == "letter":
                stack = []
                parent = current_top
                if (
                    ROMAN_VALUES.get(step.label)
                    and last_letter
                    and step.indent > last_letter.indent
                ):
                    parent = last_letter  # "i." indented under "c.": a sub-step of c
                elif current_top is not None:
                    last_letter = step
            elif step.header and seg.depth == 0:
                parent = None
            elif _indented_under(current_top, seg):
                assert current_top is not None
                # lines indented under a numbered step are its sub-steps, however marked
                while stack and stack[-1].indent >= seg.indent and stack[-1].line != seg.line:
                    stack.pop()
                parent = stack[-1] if stack else current_top
            else:
                if step.conditional and stack and stack[-1].conditional:
                    stack.pop()
                if seg.depth > 0 and not stack and (seg.depth - 1) in by_depth:
                    parent = by_depth[seg.depth - 1]
                elif stack:
                    inner = stack[-1]
                    if (
                        not step.pending
                        or inner.conditional
                        or not inner.children
                        or (step.labelled and any(c.labelled for c in inner.children))
                    ):
                        parent = inner
                    else:
                        stack = []
                if parent is None and stack == [] and not step.pending and current_top is not None:
                    if current_top.header or (step.marker == "bullet" and seg.depth > 0):
                        parent = current_top
            if parent is None:
                top.append(step)
                current_top, stack, last_letter = step, [], None
                if step.container and not step.header:
                    stack = [step]
            else:
                parent.children.append(step)
                if step.container:
                    stack.append(step)
            by_depth[seg.depth] = step
            for deeper in [d for d in by_depth if d > seg.depth]:
                del by_depth[deeper]
            last = step
    top = _adopt_lost_children(top)
    label_steps(top)
    return top


def _indented_under(top: Step | None, seg: _Line) -> bool:
    """A line outside any Markdown list, indented deeper than the numbered step above it."""
    return (
        top is not None
        and top.marker == "number"
        and seg.depth == 0
        and seg.marker in ("none", "bullet")
        and seg.indent > top.indent
    )


def _adopt_lost_children(top: list[Step]) -> list[Step]:
    """A childless section title ("1. Provide Cancellation Alternatives:") followed by
    flat numbered steps lost its nesting in the export: give it the steps up to the
    next title."""
    out: list[Step] = []
    adopter: Step | None = None
    for step in top:
        if step.header:
            adopter = step if not step.children else None
            out.append(step)
        elif adopter is not None:
            adopter.children.append(step)
        else:
            out.append(step)
    return out


_TABLE_RULE = re.compile(r"^:?-{2,}:?$")
_TABLE_STEP = re.compile(r"^(?:step\s+)?(?:(\d{1,2})|([a-h]))[.)]?$", re.I)


def _table_rows(lines: list[_Line]) -> list[_Line]:
    """An SOP pasted as a table (Notion, Confluence): `| 2 | Use @tool … | notes |` is step
    2 (the first cell after the number is the step; later cells are notes); the header
    row and the `|---|` rule are dropped."""
    out: list[_Line] = []
    for ln in lines:
        if ln.marker != "none" or not (ln.text.startswith("|") and ln.text.endswith("|")):
            out.append(ln)
            continue
        cells = [c.strip() for c in ln.text.strip("|").split("|")]
        step = _TABLE_STEP.match(cells[0]) if len(cells) > 1 else None
        if step is None or all(_TABLE_RULE.match(c) for c in cells) or not cells[1]:
            continue
        marker: Marker = "number" if step.group(1) else "letter"
        column = ln.column + ln.text.find(cells[1], len(cells[0]) + 1)
        out.append(_Line(cells[1], ln.line, column, marker, step.group(1) or step.group(2)))
    return out


def parse_policy(text: str) -> ParsedPolicy:
    """Front matter + the document's own title + "when to use" prose + the step tree."""
    text = normalise_export(text)
    meta, error, key_lines, body_start = split_front_matter(text)
    lines, headings = _block_lines(text, body_start)
    lines = _table_rows(lines)
    when: list[_Line] = []
    logic: list[_Line] = []
    in_logic = False
    in_when_section = False
    for ln in lines:
        if ln.label == "#" or (ln.marker == "none" and _SECTION_LABEL.match(ln.text)):
            heading = ln.text.rstrip(":")
            in_logic = bool(_LOGIC_HEADINGS.match(heading))
            in_when_section = bool(_WHEN_HEADINGS.match(heading)) and not in_logic
            continue
        starts_list = ln.marker != "none" or bool(
            _LETTER_START.match(ln.text)
            or _NUMBER_START.match(ln.text)
            or _BULLET_START.match(ln.text)
            or ln.text in ("-", "–")
        )
        if not in_logic and starts_list and not in_when_section:
            in_logic = True
        if in_logic:
            logic.append(ln)
        elif ln.text:
            when.append(ln)
    first = next(((ln.line, ln.text) for ln in lines if ln.text and ln.label != "#"), None)
    if first is not None and any(line < first[0] for line, _ in headings):
        first = None  # a heading came first: it is the candidate
    before = logic[0].line if logic else len(text.split("\n")) + 1
    title, title_line = document_title(headings, first, before)
    written = meta.get("title")
    if isinstance(written, str) and written.strip().casefold() != title.casefold():
        title_line = 0  # the front matter's title stands; the line is prose
    return ParsedPolicy(
        meta=meta,
        meta_error=error,
        meta_lines=key_lines,
        when_to_use=" ".join(ln.text for ln in when if ln.line != title_line).strip(),
        steps=build_tree(logic),
        lines=text.split("\n"),
        body_start=body_start,
        title=title,
    )
