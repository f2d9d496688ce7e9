"""Conditions and values in a plan: a small AST, a safe expression grammar, a vocabulary.

Authors write conditions two ways:

1. Plain words from the vocabulary below ("If the user accepts:", "If tracking shows
   no delivery:"). Each entry is either *reply-judged* (the runtime classifies the
   customer's latest answer to an ask or offer against `intent`) or *context-judged*
   (it expands to an explicit expression the interpreter evaluates).
2. An explicit expression over context: `If $tracking.status == "delivered":`.
   Grammar (no eval): `or` / `and` / `not`, parentheses, comparisons
   `== != < <= > >=`, operands `$name.field`, "strings" (straight or curly quotes),
   numbers, `true` / `false` / `null`; a bare `$var` tests truthiness.

Vocabulary (name, what it means):

- `user_accepts`: the customer said yes / took an offer (reply intent `accept`).
- `user_declines`: the customer said no / turned the offer down (intent `decline`).
- `insists_on_cancel`: the customer still wants to cancel after the offers (`insist_cancel`).
- `has_concerns`: the customer raises further concerns or questions (`concern`).
- `user_confirms` / `user_denies`: a plain yes / no to the latest question (`yes` / `no`).
- `order_status_is(status)`: `$order.status == status` (e.g. "the status is “Delivered”").
- `tracking_confirms_delivery`: `$tracking.delivered == true`.
- `tracking_shows_no_delivery`: `$tracking.delivered == false`.
- `order_not_eligible`: `$eligibility.eligible == false`.
- `order_eligible`: `$eligibility.eligible == true`.
- `new_address_provided`: `$new_address` is set.
- `applicable`: always true ("If applicable, …" keeps the author's hedge readable).
- `subscription_status_is(status)`, `order_shipped`, `order_not_shipped`: status checks.
- `order_age`: how many days ago the order was placed or delivered (`DaysSince`), read
  against the time the interpreter is given.
- `user_chooses(option)`: built by the compiler, not the table: the answer to the latest
  ask or offer with options equals the option a phrase names.

Extend it by adding a `VocabularyEntry` to `VOCABULARY` (policies/vocabulary.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.vocabulary import AGE_OPS, AGE_UNITS, VOCABULARY, split_statuses

Scalar = str | int | float | bool | None

# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


class VarRef(BaseModel):
    """`$name.field`: a path into the ticket context."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["var"] = "var"
    path: list[str]
    fallbacks: list[list[str]] = Field(
        default_factory=list, description="paths to try, in order, when `path` is unset"
    )

    def __str__(self) -> str:
        return " ?? ".join("$" + ".".join(p) for p in [self.path, *self.fallbacks])


class LiteralValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["literal"] = "literal"
    value: Scalar

    def __str__(self) -> str:
        return repr(self.value) if isinstance(self.value, str) else str(self.value).lower()


class TemplateValue(BaseModel):
    """Text with `[placeholders]` and `$vars`, filled by the runtime."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["template"] = "template"
    text: str

    def __str__(self) -> str:
        return f"“{self.text}”"


Value = Annotated[VarRef | LiteralValue | TemplateValue, Field(discriminator="kind")]
Operand = Annotated[VarRef | LiteralValue, Field(discriminator="kind")]

# ---------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------

CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]


class Compare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Operand
    right: Operand


class Truthy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["truthy"] = "truthy"
    value: VarRef


class Always(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["always"] = "always"


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["and"] = "and"
    items: list[Condition]


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["or"] = "or"
    items: list[Condition]


class Not(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["not"] = "not"
    item: Condition


class DaysSince(BaseModel):
    """How many days ago a date in context was, against the time the interpreter is given
    (the workflow's clock, so a replay gives the same answer): `$order.created_at` more
    than 30 days ago is `days since $order.created_at > 30`. False when the date is unset."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["days_since"] = "days_since"
    since: VarRef
    op: CompareOp
    days: float


class Vocab(BaseModel):
    """A plain-word condition. `intent` set: judge the latest reply. `expansion` set:
    evaluate that instead. The interpreter never needs the phrase itself."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["vocab"] = "vocab"
    name: str
    phrase: str = Field(description="the words as the author wrote them")
    args: dict[str, Scalar] = Field(default_factory=dict)
    intent: str | None = None
    expansion: Condition | None = None


Condition = Annotated[
    Compare | Truthy | Always | AllOf | AnyOf | Not | DaysSince | Vocab,
    Field(discriminator="kind"),
]

for _model in (AllOf, AnyOf, Not, Vocab):
    _model.model_rebuild()


def describe(cond: Condition) -> str:
    """One-line human rendering, for `policy show`."""
    if isinstance(cond, Compare):
        return f"{cond.left} {cond.op} {cond.right}"
    if isinstance(cond, Truthy):
        return str(cond.value)
    if isinstance(cond, Always):
        return "always"
    if isinstance(cond, AllOf):
        return " and ".join(f"({describe(c)})" for c in cond.items)
    if isinstance(cond, AnyOf):
        return " or ".join(f"({describe(c)})" for c in cond.items)
    if isinstance(cond, Not):
        return f"not ({describe(cond.item)})"
    if isinstance(cond, DaysSince):
        return f"days since {cond.since} {cond.op} {cond.days:g}"
    args = ", ".join(f"{k}={v!r}" for k, v in cond.args.items())
    name = f"{cond.name}({args})" if args else cond.name
    if cond.intent:
        return f"{name} [customer reply: {cond.intent}]"
    if cond.expansion is not None:
        return f"{name} [{describe(cond.expansion)}]"
    return name


def variables_in(cond: Condition) -> list[VarRef]:
    """Every `$var` an explicit condition reads (vocabulary expansions are excluded:
    they read what the matching tool binds and are checked at run time)."""
    if isinstance(cond, Compare):
        return [o for o in (cond.left, cond.right) if isinstance(o, VarRef)]
    if isinstance(cond, Truthy):
        return [cond.value]
    if isinstance(cond, DaysSince):
        return [cond.since]
    if isinstance(cond, AllOf | AnyOf):
        return [v for c in cond.items for v in variables_in(c)]
    if isinstance(cond, Not):
        return variables_in(cond.item)
    return []


# ---------------------------------------------------------------------------
# Explicit expressions
# ---------------------------------------------------------------------------


class ConditionSyntaxError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<var>\$[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)
      | (?P<str>"[^"]*"|“[^”]*”|'[^']*'|‘[^’]*’)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|<|>|\(|\))
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.lastgroup is None:
            raise ConditionSyntaxError(f"I don't understand “{text[pos:].strip()}”", pos)
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


class _ExprParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.text = text

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise ConditionSyntaxError("the condition ends too early", len(self.text))
        self.i += 1
        return tok

    def parse(self) -> Condition:
        cond = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise ConditionSyntaxError(f"unexpected “{tok[1]}”", tok[2])
        return cond

    def or_expr(self) -> Condition:
        items = [self.and_expr()]
        while (tok := self.peek()) and tok[0] == "word" and tok[1].lower() == "or":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else AnyOf(items=items)

    def and_expr(self) -> Condition:
        items = [self.not_expr()]
        while (tok := self.peek()) and tok[0] == "word" and tok[1].lower() == "and":
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else AllOf(items=items)

    def not_expr(self) -> Condition:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() == "not":
            self.take()
            return Not(item=self.not_expr())
        return self.comparison()

    def comparison(self) -> Condition:
        tok = self.peek()
        if tok and tok[1] == "(":
            self.take()
            inner = self.or_expr()
            close = self.take()
            if close[1] != ")":
                raise ConditionSyntaxError("a “(” is never closed", close[2])
            return inner
        left = self.operand()
        nxt = self.peek()
        if nxt and nxt[0] == "op" and nxt[1] not in "()":
            op = self.take()[1]
            right = self.operand()
            return Compare(op=op, left=left, right=right)
        if isinstance(left, VarRef):
            return Truthy(value=left)
        raise ConditionSyntaxError("a condition needs a $variable to test", tok[2] if tok else 0)

    def operand(self) -> VarRef | LiteralValue:
        kind, text, pos = self.take()
        if kind == "var":
            return VarRef(path=text[1:].split("."))
        if kind == "str":
            return LiteralValue(value=text[1:-1])
        if kind == "num":
            return LiteralValue(value=float(text) if "." in text else int(text))
        if kind == "word" and text.lower() in ("true", "false", "null", "none"):
            low = text.lower()
            return LiteralValue(value=None if low in ("null", "none") else low == "true")
        raise ConditionSyntaxError(f"expected a $variable or a value, found “{text}”", pos)


def parse_expression(text: str) -> Condition:
    """Parse an explicit condition; raises ConditionSyntaxError with an offset."""
    return _ExprParser(text).parse()


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


def match_vocabulary(phrase: str) -> Vocab | None:
    """The vocabulary condition a plain-word phrase means, or None.

    Entries are tried in order, most specific first (so "insists on canceling" is not
    read as "declines", and "not eligible" is not read as "eligible").
    """
    clean = _normalise(phrase)
    for entry in VOCABULARY:
        for pattern in entry.patterns:
            m = re.search(pattern, clean)
            if not m:
                continue
            args: dict[str, Scalar] = {}
            expansion: Condition | None = None
            if m.groupdict().get("age_n"):
                expansion = days_since(m)
            elif m.groupdict().get("statuses"):
                statuses = split_statuses(m.group("statuses"))
                args["status"] = " or ".join(statuses)
                expansion = status_condition(
                    statuses, negated=bool(m.group("negated")), of=entry.status_of
                )
            elif entry.expansion is not None:
                expr = entry.expansion
                expansion = Always() if expr == "true" else parse_expression(expr)
            return Vocab(
                name=entry.name,
                phrase=phrase.strip(),
                args=args,
                intent=entry.intent,
                expansion=expansion,
            )
    return None


def status_condition(
    statuses: list[str], *, negated: bool = False, of: tuple[str, ...] = ("order.status",)
) -> Condition:
    """The status at `of` (the first path that is set) is one of `statuses` (or, negated,
    none of them)."""
    status = VarRef(path=of[0].split("."), fallbacks=[p.split(".") for p in of[1:]])
    items: list[Condition] = [
        Compare(op="==", left=status, right=LiteralValue(value=s)) for s in statuses
    ]
    cond = items[0] if len(items) == 1 else AnyOf(items=items)
    return Not(item=cond) if negated else cond


def days_since(m: re.Match[str]) -> DaysSince:
    """ "placed more than 30 days ago", "is less than 2 weeks old", "within 48 hours"."""
    event = m.groupdict().get("age_event") or ""
    field = "delivered_at" if re.match(r"deliver|receiv|arriv", event) else "created_at"
    amount = float(m.group("age_n")) * AGE_UNITS[m.group("age_unit").rstrip("s")]
    return DaysSince(
        since=VarRef(path=["order", field]), op=AGE_OPS[m.group("age_cmp")], days=amount
    )


def _normalise(text: str) -> str:
    text = text.strip().rstrip(":,.").lower()
    text = text.replace("’", "'").replace("canceling", "cancel").replace("cancelling", "cancel")
    return text
