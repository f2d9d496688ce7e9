"""Step labels: 1, 2 … for steps, a, b … for their sub-steps, then 1, 2 (or i, ii …),
keeping the author's own numbers and letters wherever they count up, so a diagnostic's
"step 4" is the line where the author wrote 4."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.parser import Step


def label_steps(steps: list[Step], prefix: str = "") -> None:
    """Label steps 1, 2 … then a, b … then 1, 2 (or i, ii … as written), keeping the
    author's own number or letter wherever it counts up, so a diagnostic's "step 4" is
    the line that says 4."""
    level = prefix.count(".") + 1 if prefix else 0
    count = 0
    flat = int(prefix) if prefix.isdigit() else 0
    for step in steps:
        written = _written_ordinal(step, level, count)
        count = written if written is not None and written > count else count + 1
        if level == 1 and _flat_number(step, flat):
            # "7." adopted under the title "6. Confirm Decision:" is still the author's 7
            flat = int(step.label)
            step.label = str(flat)
        elif level == 0:
            step.label = str(count)
        elif level == 1:
            step.label = f"{prefix}.{chr(ord('a') + count - 1) if count <= 26 else count}"
        else:
            own = step.label if written == count and step.marker == "letter" else str(count)
            step.label = f"{prefix}.{own}"
        label_steps(step.children, step.label)


def _flat_number(step: Step, last: int) -> bool:
    """A numbered step given a parent by `_adopt_lost_children`, numbered on from it."""
    label = step.label
    return step.marker == "number" and step.depth == 0 and label.isdigit() and 0 < last < int(label)


ROMAN_VALUES = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}


def _written_ordinal(step: Step, level: int, count: int) -> int | None:
    """Where the step sits in the author's own numbering at this level, if it says."""
    label = step.label.lower()
    if level == 0 and step.marker == "number" and label.isdigit():
        return int(label)
    if level == 1 and step.marker == "letter" and len(label) == 1:
        ordinal = ord(label) - ord("a") + 1
        # a roman "i." or "v." opens a list of its own; as a letter it only follows h or u
        return None if label in ROMAN_VALUES and ordinal != count + 1 else ordinal
    if level >= 2 and step.marker == "letter" and label in ROMAN_VALUES:
        return ROMAN_VALUES[label]
    return None
