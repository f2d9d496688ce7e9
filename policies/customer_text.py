"""Text a customer reads never shows policy syntax: `#Policy`, `@tool(…)` or `$var`.

Authors write steps for the bot ("Reship the order using #Skio reshipment"); options,
messages and questions derived from them, or quoted from them, must read as plain
words ("Reship your order"). The compiler uses `syntax_in` to warn the author (TF021)
and `without_syntax` for the wording it puts in the plan; the ticket workflow runs
every reply through `without_syntax` again after filling `$vars`, so nothing an author
or a template left behind reaches a customer.
"""

from __future__ import annotations

import re

#: `@tool` / `@tool(args)`, `#Policy` (a letter after #: "order #5001" is not a policy),
#: `$var.field`. Not inside a word or an email address.
_TOOL = r"@[A-Za-z_]\w*(?:\([^()]*\))?"
_POLICY = r"#[A-Za-z][\w-]*(?:[ ](?:(?-i:[A-Z])[\w-]*|policy|reshipment|refund|cancellation))*"
_VAR = r"\$[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
SYNTAX = re.compile(rf"(?<![\w.&/])(?:{_TOOL}|{_POLICY}|{_VAR})")

_VIA = re.compile(
    r"\s*,?\s*\b(?:using|via|with|through|per|following|as per|according to|by calling|"
    rf"with the help of)\s+(?:the\s+)?(?:{_TOOL}|{_POLICY})(?:\s+(?:policy|tool))?"
    # a lower-case policy name runs on ("#Skio reshipment") up to the clause's end
    r"(?:\s+[a-z][\w-]*){0,3}?"
    r"(?=\s*[.!?]?[\"”’]?\s*$|\s*[,;:]|\s+(?:and|or|then|so|but)\b)",
    re.I,
)
_LEADING_USE = re.compile(rf"^(?:use|call|run)\s+{_TOOL}\s*(?:tool\s+)?(?:to\s+)?", re.I)
_HAND_OVER = re.compile(
    r"^(?:proceed|continue|follow|hand (?:it )?over)\s+(?:with|to)\s+(?:the\s+)?#[A-Za-z].*$",
    re.I,
)


def syntax_in(text: str, *, vars_filled: bool = False) -> list[str]:
    """The syntax in `text` a customer would see; `vars_filled`: `$vars` are rendered
    from context before the text is sent, so they are not counted."""
    return [
        m.group(0).strip()
        for m in SYNTAX.finditer(text)
        if not (vars_filled and m.group(0).startswith("$"))
    ]


def without_syntax(text: str, *, keep_vars: bool = False) -> str:
    """`text` with its policy syntax rewritten away: "Reship your order using #Skio
    reshipment." → "Reship your order."; `keep_vars` leaves `$vars` for rendering."""
    if not syntax_in(text, vars_filled=keep_vars):
        return text
    if _HAND_OVER.match(text.strip()):
        return ""
    out = _VIA.sub("", text)
    out = _LEADING_USE.sub("", out)
    out = SYNTAX.sub(lambda m: _plain(m.group(0), keep_vars), out)
    out = re.sub(r"\(\s*\)", "", out)
    out = re.sub(r"\s+(?:and|or|using|via|with|through)\s*(?=[.,;:!?]|$)", "", out)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    out = re.sub(r"([.,;:!?])\1+", r"\1", out)
    out = out.strip(" \t,;:")
    if out[:1].islower() and text[:1].isupper():
        out = out[0].upper() + out[1:]
    return out


def _plain(ref: str, keep_vars: bool) -> str:
    """A reference the rewrite could not drop with its verb: a policy reads as its name
    ("#Refund Policy" → "refund"), a tool and an unfilled `$var` disappear."""
    if ref.startswith("#"):
        return re.sub(r"\s+policy$", "", ref[1:], flags=re.I).replace("_", " ").lower()
    if ref.startswith("$") and keep_vars:
        return ref
    return ""


_CANCELLING = re.compile(r"\bcancel", re.I)


def offer_message(prompt: str, options: list[tuple[str, str]], *, situation: str = "") -> str:
    """An offer as the customer reads it: the prompt, the numbered options (with what
    each means, when that adds something), and how to answer, phrased for the policy's
    situation (`situation`: its id and title): "still like to cancel" only where the
    customer came to cancel."""
    lines = [prompt]
    for i, (label, about) in enumerate(options, 1):
        about = without_syntax(about)
        same = about.rstrip(".").strip().lower() == label.strip().lower()
        lines.append(f"{i}. {label}" + (f": {about}" if about and not same else ""))
    if _CANCELLING.search(situation):
        lines.append("Reply with a number, or tell me if you'd still like to cancel.")
    else:
        lines.append("Reply with a number, or tell me if none of these works for you.")
    return for_customer("\n".join(lines))


def for_customer(text: str) -> str:
    """The runtime guard: a reply as it may be sent, line by line without syntax."""
    return "\n".join(without_syntax(line) for line in text.split("\n"))
