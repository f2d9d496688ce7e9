"""Reading a ticket's `$context`: lookups by path, values as they read in a message, and
templates filled from it. Pure, like the interpreter that uses it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from policies.conditions import LiteralValue, TemplateValue, Value, VarRef

#: What `lookup` returns for a path the context does not have (None is a value).
MISSING = object()


def lookup(context: dict[str, Any], path: list[str]) -> Any:
    value: Any = context
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def human(value: Any) -> str:
    """How a value reads in a message: dates as "December 22, 2026", not ISO strings."""
    if isinstance(value, datetime):
        return f"{value:%B} {value.day}, {value.year}"
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return human(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|\[([^\]]+)\]")


def render(text: str, context: dict[str, Any]) -> str:
    """Fill ``$var.field`` and ``[placeholder]`` from context; unknown ones stay visible."""

    def fill(m: re.Match[str]) -> str:
        if m.group(1):
            value = lookup(context, m.group(1).split("."))
            return m.group(0) if value is MISSING else human(value)
        key = m.group(2).strip().lower().replace(" ", "_")
        value = lookup(context, key.split("."))
        if value is MISSING:
            value = context.get("placeholders", {}).get(key, MISSING)
        return m.group(0) if value is MISSING else human(value)

    return _PLACEHOLDER.sub(fill, text)


def resolve_value(value: Value, context: dict[str, Any]) -> Any:
    if isinstance(value, VarRef):
        for path in [value.path, *value.fallbacks]:
            found = lookup(context, path)
            # "" is an answer that means "nothing new" (keep the address on file): fall back.
            if found is not MISSING and found is not None and found != "":
                return found
        return None
    if isinstance(value, LiteralValue):
        return value.value
    if isinstance(value, TemplateValue):
        return render(value.text, context)
    raise TypeError(f"unknown value {value!r}")
