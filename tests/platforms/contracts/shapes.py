"""A small vocabulary for writing a vendor's documented request and response shapes in our
own words, and checking real traffic (from the sandbox's request log) against them.

A ``Shape`` names required and optional fields, each with a check; a closed shape also
refuses any field it does not name (what the connector may send), an open one lets the
vendor add fields (what the connector reads). ``problems(check, value)`` lists every
mismatch with its path, so a failing contract says exactly which field drifted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

Check = Callable[[Any, str], list[str]]


def kind(*types: type, what: str | None = None) -> Check:
    names = what or "/".join(t.__name__ for t in types)

    def check(value: Any, path: str) -> list[str]:
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        return [] if ok else [f"{path}: expected {names}, got {value!r}"]

    return check


INT = kind(int)
STR = kind(str)
BOOL = kind(bool)
NUMBER = kind(int, float, what="number")
NULL_OR_STR = kind(str, type(None), what="string or null")


def pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(value: Any, path: str) -> list[str]:
        if isinstance(value, str) and compiled.fullmatch(value):
            return []
        return [f"{path}: expected {what}, got {value!r}"]

    return check


# Money as a decimal number written in a string ("8.0000", "64.00").
MONEY_STRING = pattern(r"\d+(\.\d+)?", "money as a decimal string")


def one_of(*allowed: Any) -> Check:
    def check(value: Any, path: str) -> list[str]:
        return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]

    return check


def rfc2822(value: Any, path: str) -> list[str]:
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return [f"{path}: expected an RFC 2822 date, got {value!r}"]
    return []


def list_of(item: Check, *, min_items: int = 0) -> Check:
    def check(value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        found = [] if len(value) >= min_items else [f"{path}: at least {min_items} item(s)"]
        for index, element in enumerate(value):
            found += item(element, f"{path}[{index}]")
        return found

    return check


def any_of(*checks: Check) -> Check:
    """The value passes at least one of the checks (the vendor's oneOf/anyOf)."""

    def check(value: Any, path: str) -> list[str]:
        results = [c(value, path) for c in checks]
        if any(not r for r in results):
            return []
        return [f"{path}: matches none of the allowed shapes: " + " | ".join(r[0] for r in results)]

    return check


@dataclass(frozen=True)
class Shape:
    required: Mapping[str, Check] = field(default_factory=dict)
    optional: Mapping[str, Check] = field(default_factory=dict)
    closed: bool = False

    def __call__(self, value: Any, path: str = "$") -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        found: list[str] = []
        for name, check in self.required.items():
            if name not in value:
                found.append(f"{path}.{name}: required, missing")
            else:
                found += check(value[name], f"{path}.{name}")
        for name, check in self.optional.items():
            if name in value:
                found += check(value[name], f"{path}.{name}")
        if self.closed:
            extra = set(value) - set(self.required) - set(self.optional)
            found += [f"{path}.{name}: not a documented field" for name in sorted(extra)]
        return found


def problems(check: Check, value: Any) -> list[str]:
    return check(value, "$")


def assert_all(check: Check, values: list[Any]) -> None:
    """Every value (requests or answers of one operation) fits `check`; there is one at least."""
    assert values, "no traffic for this operation"
    found = [p for value in values for p in problems(check, value)]
    assert found == []
