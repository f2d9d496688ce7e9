"""Names a `#reference` may use: every policy id and title in the library."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process


def _norm_name(name: str) -> str:
    words = re.sub(r"[_\-\s]+", " ", name.strip().lower()).strip(" .,:;")
    return re.sub(r"\s*\bpolicy$", "", words).strip()


@dataclass
class PolicyIndex:
    """Ids and titles of the policies a reference may name (case and `_`/space blind)."""

    names: dict[str, str] = field(default_factory=dict)  # normalised name → id
    ids: list[str] = field(default_factory=list)

    def add(self, policy_id: str, title: str | None = None) -> None:
        self.ids.append(policy_id)
        self.names[_norm_name(policy_id)] = policy_id
        if title:
            self.names.setdefault(_norm_name(title), policy_id)

    def resolve(self, name: str) -> str | None:
        return self.names.get(_norm_name(name))

    def suggest(self, name: str) -> str | None:
        hit = process.extractOne(_norm_name(name), list(self.names), scorer=fuzz.WRatio)
        return self.names[hit[0]] if hit and hit[1] >= 60 else None
