"""Front matter: the YAML header's id, title, routing words (ticket types, triggers, example
openings, the customer's name for it), platforms and settings."""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process

from policies.compiler.patterns import KNOWN_KEYS, KNOWN_SETTINGS
from policies.compiler.sink import DiagnosticSink
from policies.parser import ParsedPolicy
from policies.plan import Variant
from policies.platforms import PLATFORM_ROLES, platform_key


def read_front_matter(p: ParsedPolicy, sink: DiagnosticSink) -> tuple[dict[str, Any], list[str]]:
    """The checked front matter and the platforms it lists; a problem is reported and the
    key left out (or defaulted), so the steps are still compiled and checked."""
    known_platforms: list[str] = []
    if p.meta_error:
        sink.report(
            "TF010",
            f"I can't read the front matter: {p.meta_error[1]}.",
            line=p.meta_error[0],
            fix="Front matter is YAML between two `---` lines, e.g.\n"
            "---\nid: reshipment\ntitle: Reshipment\nplatforms: [stayai, kustomer]\n---",
        )
        return {}, []
    meta: dict[str, Any] = {}
    raw = p.meta
    lines = p.meta_lines

    def where(key: str) -> int:
        return lines.get(key, 1)

    pid = raw.get("id")
    if not pid or not isinstance(pid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", pid):
        sink.report(
            "TF010",
            "Every policy needs an `id` in its front matter: lower case letters, "
            "digits and underscores" + (f" (found {pid!r})." if pid else "."),
            line=where("id"),
            fix="Add a line such as `id: single_order_cancellation`.",
        )
    else:
        meta["id"] = pid
    meta["title"] = str(raw.get("title") or pid or "")
    # How a customer would name this policy ("a parcel that hasn't arrived"): the router's
    # disambiguation question uses it; the title stands in when it is missing.
    customer_name = raw.get("customer_name") or ""
    if not isinstance(customer_name, str):
        sink.report(
            "TF010",
            "`customer_name` should be a short phrase, e.g. "
            "`customer_name: a parcel that hasn't arrived`.",
            line=where("customer_name"),
        )
        customer_name = ""
    meta["customer_name"] = customer_name.strip()
    for key in ("ticket_types", "triggers", "inputs", "examples"):
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            sink.report(
                "TF010", f"`{key}` should be a list, e.g. `{key}: [a, b]`.", line=where(key)
            )
            value = []
        meta[key] = [str(v) for v in value]
    platforms = raw.get("platforms", [])
    if isinstance(platforms, str):
        platforms = [s.strip() for s in platforms.split(",")]
    for name in platforms or []:
        key = platform_key(str(name))
        if key not in PLATFORM_ROLES:
            hit = process.extractOne(key, list(PLATFORM_ROLES), scorer=fuzz.WRatio)
            sink.report(
                "TF010",
                f"I don't know the platform “{name}”.",
                line=where("platforms"),
                needle=str(name),
                fix=(f"Did you mean `{hit[0]}`? " if hit and hit[1] > 60 else "")
                + "Known platforms: "
                + ", ".join(PLATFORM_ROLES)
                + ".",
            )
        else:
            known_platforms.append(key)
    variants = raw.get("variants", [])
    parsed_variants: list[Variant] = []
    if isinstance(variants, dict):
        parsed_variants = [
            Variant(name=str(k), description=str(v or "")) for k, v in variants.items()
        ]
    elif isinstance(variants, list):
        for v in variants:
            if isinstance(v, dict) and "name" in v:
                parsed_variants.append(
                    Variant(name=str(v["name"]), description=str(v.get("description", "")))
                )
            else:
                parsed_variants.append(Variant(name=str(v)))
    meta["variants"] = parsed_variants
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict) or not all(
        isinstance(v, str | int | float | bool) for v in defaults.values()
    ):
        sink.report(
            "TF010",
            "`defaults` should map names to plain values, e.g. `defaults: {percent: 15}`.",
            line=where("defaults"),
        )
        defaults = {}
    meta["defaults"] = {str(k): v for k, v in defaults.items()}
    settings: dict[str, Any] = {}
    for key, value in raw.items():
        if key in KNOWN_KEYS:
            continue
        if key not in KNOWN_SETTINGS:
            hit = process.extractOne(str(key), sorted(KNOWN_KEYS | KNOWN_SETTINGS))
            sink.report(
                "TF019",
                f"The front matter has a key I don't use: `{key}`. It is "
                "kept in the plan's settings but changes nothing.",
                line=where(key),
                fix=f"Did you mean `{hit[0]}`?" if hit and hit[1] > 70 else None,
            )
        settings[str(key)] = (
            value
            if isinstance(value, str | int | float | bool | list | dict) or value is None
            else str(value)
        )
    meta["settings"] = settings
    return meta, known_platforms
