"""Front matter: the YAML header's id, title, routing words (ticket types, triggers, example
openings, the customer's name for it), platforms and settings.

A policy pasted without some of it still compiles: the id comes from the file name (else
the title), the title from the document's own title line, the platforms from the
platform tools its steps call; one TF022 warning says what was chosen and shows the
front matter that chooses it. A caller that files policies by their declared id (the
policy store) passes `require_id`, and a missing id stays an error there."""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from policies.catalog import CATALOG
from policies.compiler.patterns import KNOWN_KEYS, KNOWN_SETTINGS, TOOL_RE
from policies.compiler.sink import DiagnosticSink
from policies.compiler.state import CompileState
from policies.parser import ParsedPolicy, Step
from policies.plan import Variant
from policies.platforms import PLATFORM_ROLES, PLATFORM_TITLES, platform_key

_ID = re.compile(r"[a-z][a-z0-9_]*")


def id_from(name: str) -> str | None:
    """A policy id made of a file name or title: lower case, every run of other characters
    an underscore ("Late Delivery – Tracking Check" → late_delivery_tracking_check)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug if _ID.fullmatch(slug) else None


def policy_name(p: ParsedPolicy, path: str | None) -> tuple[str | None, str, str]:
    """(id, title, where the id came from) as the compiler will choose them: the front
    matter's, else the file name's or the document title's."""
    written_id, written_title = p.meta.get("id"), p.meta.get("title")
    title = str(written_title or p.title or "")
    if written_id:
        return str(written_id), title or str(written_id), "front matter"
    from_path = id_from(PurePath(path).stem) if path else None
    if from_path:
        return from_path, title or from_path, "the file name"
    from_title = id_from(title) if title else None
    return from_title, title, "the title"


def platforms_of_tools(steps: list[Step]) -> dict[str, list[str]]:
    """Platform → the platform-specific tools the steps call on it, in order of use."""
    found: dict[str, list[str]] = {}
    for step in steps:
        for m in TOOL_RE.finditer(step.text):
            spec = CATALOG.get(m.group(1))
            if spec is not None and spec.binds_to in PLATFORM_ROLES:
                tools = found.setdefault(spec.binds_to, [])
                if spec.name not in tools:
                    tools.append(spec.name)
        for platform, tools in platforms_of_tools(step.children).items():
            known = found.setdefault(platform, [])
            known += [t for t in tools if t not in known]
    return found


def read_front_matter(
    p: ParsedPolicy, sink: DiagnosticSink, *, path: str | None = None, require_id: bool = False
) -> tuple[dict[str, Any], list[str]]:
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
    chosen: dict[str, str] = {}  # what this function chose for keys the author left out
    inferred_id, title, id_source = policy_name(p, path)
    if not pid and inferred_id and not require_id:
        meta["id"] = chosen["id"] = inferred_id
        chosen["id_source"] = id_source
    elif not pid or not isinstance(pid, str) or not _ID.fullmatch(pid):
        suggestion = id_from(str(pid)) if pid else inferred_id
        sink.report(
            "TF010",
            "Every policy needs an `id` in its front matter: lower case letters, "
            "digits and underscores" + (f" (found {pid!r})." if pid else "."),
            line=where("id"),
            fix=f"Add a line such as `id: {suggestion or 'single_order_cancellation'}`.",
        )
    else:
        meta["id"] = pid
    meta["title"] = title or str(meta.get("id", ""))
    if not raw.get("title") and p.title:
        chosen["title"] = p.title
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
    if "platforms" not in raw:
        used = platforms_of_tools(p.steps)
        platforms = list(used)
        if used:
            chosen["platforms"] = "; ".join(
                f"@{', @'.join(tools)} run{'s' if len(tools) == 1 else ''} on "
                + PLATFORM_TITLES.get(platform, platform)
                for platform, tools in used.items()
            )
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
    if "id" in chosen or "platforms" in chosen:
        _report_chosen(sink, p, meta, chosen, known_platforms)
    return meta, known_platforms


def _report_chosen(
    sink: DiagnosticSink,
    p: ParsedPolicy,
    meta: dict[str, Any],
    chosen: dict[str, str],
    platforms: list[str],
) -> None:
    """One TF022 warning: what was chosen for the missing keys, and the lines to write."""
    said, lines = [], []
    if "id" in chosen:
        said.append(f"the id `{chosen['id']}` (from {chosen['id_source']})")
        lines.append(f"id: {chosen['id']}")
    if "title" in chosen:
        said.append(f"the title “{chosen['title']}” (from its title line)")
        lines.append(f"title: {_yaml_text(chosen['title'])}")
    if "platforms" in chosen:
        said.append(
            f"the platforms {', '.join(f'`{k}`' for k in platforms)} ({chosen['platforms']}; "
            "generic tools of the same role run there too)"
        )
        lines.append(f"platforms: [{', '.join(platforms)}]")
    block = "\n".join(lines)
    has_front_matter = bool(p.meta) or p.body_start > 0
    missing = " or ".join(k for k in ("id", "platforms") if k in chosen)
    sink.report(
        "TF022",
        (
            f"This policy's front matter doesn't give its {missing}"
            if has_front_matter
            else "This policy has no front matter"
        )
        + ", so I chose "
        + ", ".join(said)
        + ".",
        line=1,
        fix=(
            f"To choose them yourself, add to the front matter:\n{block}"
            if has_front_matter
            else f"To choose them yourself, start the file with:\n---\n{block}\n---"
        ),
    )


def report_assumed(sink: DiagnosticSink, p: ParsedPolicy, state: CompileState) -> None:
    """One TF023 warning at the first tool that took a deployment default: which platform
    now fills which role, and the `platforms:` line that says so in the policy itself."""
    first = state.assumed[0]
    roles = " or ".join(dict.fromkeys(a.role for a in state.assumed))
    used = "; ".join(
        f"{PLATFORM_TITLES.get(a.platform, a.platform)} (`{a.platform}`) for the {a.role} "
        f"(first needed by @{a.tool})"
        for a in state.assumed
    )
    line = f"platforms: [{', '.join(state.platforms)}]"
    if "platforms" in p.meta:
        where = "write in the front matter, instead of its `platforms:` line"
    elif p.meta or p.body_start > 0:
        where = "add to the front matter"
    else:
        where = "add to a front matter at the top of the file (between two `---` lines)"
    sink.report(
        "TF023",
        f"This policy names no {roles} platform, so I used this deployment's default "
        f"platforms (TICKETFLOW_DEFAULT_PLATFORMS): {used}. The plan keeps it, even if "
        "the setting changes later.",
        line=first.line,
        needle="@" + first.tool,
        fix=f"To choose it in the policy itself, {where}:\n{line}",
    )


def _yaml_text(text: str) -> str:
    """The text as a YAML value, quoted only when YAML would read it otherwise."""
    try:
        plain = yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)
