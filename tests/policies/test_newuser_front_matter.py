"""The ten SOPs a new customer's CX team pasted (fixtures/newuser): none fails for want of
front matter any more, and every step is named by the number its author wrote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.compiler import compile_policy
from policies.parser import Step, parse_policy

from .conftest import FIXTURES

NEWUSER = sorted((FIXTURES / "newuser").glob("*.md"))
#: How the authors number their steps: "4.", "4)", "Step 4:", "4 -".
WRITTEN_NUMBER = re.compile(r"^\s*(?:step\s+)?(\d{1,2})(?:[.):]|\s+[-–—])\s", re.I)
NAMED_STEP = re.compile(r"\bstep (\d+)\b", re.I)


def test_there_are_ten_pasted_sops() -> None:
    assert len(NEWUSER) == 10


@pytest.mark.parametrize("path", NEWUSER, ids=lambda p: p.stem)
def test_no_pasted_sop_fails_for_its_front_matter(path: Path) -> None:
    result = compile_policy(path.read_text(encoding="utf-8"), path=str(path))
    assert [d.render() for d in result.errors if d.code == "TF010"] == []
    assert result.plan is None or result.plan.id == path.stem


@pytest.mark.parametrize("path", NEWUSER, ids=lambda p: p.stem)
def test_numbered_steps_keep_their_authors_numbers(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for step in parse_policy(text).steps:
        written = WRITTEN_NUMBER.match(lines[step.line - 1])
        if written:
            assert step.label == written.group(1), lines[step.line - 1]
    for d in compile_policy(text, path=str(path)).diagnostics:
        written = WRITTEN_NUMBER.match(d.source_line)
        named = NAMED_STEP.search(d.message)
        if written and named:
            assert named.group(1) == written.group(1), d.render()


def test_sub_steps_stay_under_the_step_they_are_indented_under() -> None:
    def lines_under(steps: list[Step], label: str) -> list[int]:
        step = next(s for s in steps if s.label == label)
        return [c.line for c in step.children]

    damaged = parse_policy((FIXTURES / "newuser" / "damaged_item_photo.md").read_text())
    assert lines_under(damaged.steps, "3") == [11, 12, 13, 14]
    late = parse_policy((FIXTURES / "newuser" / "late_delivery_tracking.md").read_text())
    assert lines_under(late.steps, "6") == [12, 13]
