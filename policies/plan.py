"""The compiled plan: the typed, JSON-stable program a ticket workflow interprets.

A plan is a tree of nodes, each tagged by a `kind` field (a Pydantic discriminated
union), each keeping the source line and step label it came from. Conditions and
argument values are structured data (see `policies.conditions`), never strings to
eval, so the interpreter stays pure and deterministic.

Node kinds and what the interpreter does with them:

- `say`: send `text` to the customer; `[placeholders]` and `$vars` are filled from context.
- `ask`: send `question`, wait for the reply, store the slot value in `$var`. Data slots
  (email, order number, address) are skipped when `$var` is already known.
- `call`: run catalog tool `tool` on `platform` with `args`; bind the result to `$result`.
- `branch`: evaluate `condition`; run `then` or `otherwise`.
- `offer`: present the options; run the chosen option's steps; store the choice in
  `$var` (`{"accepted": bool, "choice": option id | None}`). A decline runs nothing and
  continues with the next node.
- `use_policy`: hand the ticket (and its context) over to another policy; this plan ends.
- `follow_up_claim`: tell the customer `notice`, wait for carrier claim `$claim` to
  resolve, then run `on_approved` or `on_rejected`.
- `escalate`: hand the ticket to an agent with `reason` and `note`; this plan ends.
- `note`: runs nothing; shown to the author (e.g. "BigCommerce also emails a receipt").
- `end`: the conversation is over with `outcome`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from policies.conditions import Condition, Value


class Outcome(StrEnum):
    """How a ticket ended: what the Outcome search attribute and the metrics count."""

    RETAINED = "retained"
    CANCELLED = "cancelled"
    RESHIPPED = "reshipped"
    REFUNDED = "refunded"
    CLAIM_FILED = "claim_filed"
    CLAIM_APPROVED = "claim_approved"
    CLAIM_REJECTED = "claim_rejected"
    SKIPPED = "skipped"
    SWAPPED = "swapped"
    RESTARTED = "restarted"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"
    RESOLVED = "resolved"


SlotKind = Literal["email", "order_number", "address", "yes_no", "choice", "free_text"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(description="1-based line of the policy source this node came from")
    step: str = Field(default="", description="the step label, e.g. '3.b'")
    source: str = Field(default="", description="the step text as written")


class SayNode(_Node):
    kind: Literal["say"] = "say"
    text: str
    macro: bool = Field(default=False, description="exact words from the author (a macro)")
    generated: bool = Field(default=False, description="default wording written by the compiler")


class AskSlot(BaseModel):
    """A further fact one question asks for ("your email address and the order number")."""

    model_config = ConfigDict(extra="forbid")

    slot: SlotKind
    var: str
    question: str = Field(description="asked on its own when the answer left it out")


class AskNode(_Node):
    kind: Literal["ask"] = "ask"
    slot: SlotKind
    question: str
    var: str = Field(description="context name the answer is stored under")
    options: list[str] = Field(default_factory=list, description="choices for a choice slot")
    skip_if_known: bool = Field(default=False, description="skip when $var is already bound")
    # Left out of the JSON when empty, so one-fact plans keep their bytes (and the node's
    # schema stays exact: the API documents plans, and a custom serializer would blur it).
    also: list[AskSlot] = Field(
        default_factory=list,
        exclude_if=lambda also: not also,
        description="further facts the same question asks for; the step is done when all are known",
    )

    @property
    def facts(self) -> list[tuple[str, str]]:
        """(slot, var) of every fact the question asks for, the first one first."""
        return [(self.slot, self.var), *((a.slot, a.var) for a in self.also)]


class CallNode(_Node):
    kind: Literal["call"] = "call"
    tool: str
    platform: str | None = Field(description="the platform the tool runs against")
    args: dict[str, Value] = Field(default_factory=dict)
    result: str = Field(description="context name the tool's result is bound to")
    side_effect: bool
    inferred: bool = Field(default=False, description="tool chosen by the compiler from words")
    outcome: Outcome | None = Field(
        default=None, description="the ticket's outcome once this call succeeds (from the catalog)"
    )


class BranchNode(_Node):
    kind: Literal["branch"] = "branch"
    condition: Condition
    then: list[Node]
    otherwise: list[Node] = Field(default_factory=list)


class OfferOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    label: str
    description: str = ""
    line: int
    steps: list[Node] = Field(default_factory=list)


class OfferNode(_Node):
    kind: Literal["offer"] = "offer"
    prompt: str
    options: list[OfferOption]
    var: str = "offer"


class UsePolicyNode(_Node):
    kind: Literal["use_policy"] = "use_policy"
    policy_id: str
    reference: str = Field(description="the reference as written, e.g. '#Reshipment Policy'")


class FollowUpClaimNode(_Node):
    kind: Literal["follow_up_claim"] = "follow_up_claim"
    claim: str = Field(default="claim", description="context name of the filed claim")
    notice: str
    on_approved: list[Node] = Field(default_factory=list)
    on_rejected: list[Node] = Field(default_factory=list)


class EscalateNode(_Node):
    kind: Literal["escalate"] = "escalate"
    reason: str
    note: str = ""


class NoteNode(_Node):
    kind: Literal["note"] = "note"
    text: str
    recognised: bool = Field(
        default=True, description="False when the compiler could not turn the step into a node"
    )
    refs: list[str] = Field(default_factory=list, description="tools or policies it mentions")


class EndNode(_Node):
    kind: Literal["end"] = "end"
    outcome: Outcome = Outcome.RESOLVED
    implicit: bool = Field(default=False, description="added by the compiler at the end")


Node = Annotated[
    SayNode
    | AskNode
    | CallNode
    | BranchNode
    | OfferNode
    | UsePolicyNode
    | FollowUpClaimNode
    | EscalateNode
    | NoteNode
    | EndNode,
    Field(discriminator="kind"),
]

NODE_KINDS: tuple[str, ...] = (
    "say",
    "ask",
    "call",
    "branch",
    "offer",
    "use_policy",
    "follow_up_claim",
    "escalate",
    "note",
    "end",
)


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""


class Plan(BaseModel):
    """One compiled policy. `version` pins a running ticket to exactly this program."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    version: str = Field(description="sha256 prefix of the source and the catalog entries used")
    when_to_use: str = ""
    ticket_types: list[str] = Field(default_factory=list)
    triggers: list[str] = Field(default_factory=list)
    examples: list[str] = Field(
        default_factory=list, description="customer openings this policy answers (routing)"
    )
    customer_name: str = Field(
        default="", description="how a customer names it, for a disambiguation question"
    )
    platforms: list[str] = Field(default_factory=list)
    roles: dict[str, str] = Field(
        default_factory=dict, description="role → platform, e.g. store → bigcommerce"
    )
    variants: list[Variant] = Field(default_factory=list)
    inputs: list[str] = Field(
        default_factory=list, description="context names a caller or the ticket provides"
    )
    defaults: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="values the context starts with, e.g. percent: 15"
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="other front matter, e.g. reminder_after, auto_close"
    )
    tools: list[str] = Field(default_factory=list, description="catalog tools the plan calls")
    policies: list[str] = Field(default_factory=list, description="policies it hands over to")
    source_path: str | None = None
    steps: list[Node]

    def walk(self) -> list[Node]:
        """Every node in document order, nested ones included."""
        out: list[Node] = []
        _walk(self.steps, out)
        return out

    def to_json(self) -> str:
        """Stable JSON: the same plan always serialises to the same bytes."""
        return self.model_dump_json(indent=2)


def _walk(nodes: list[Node], out: list[Node]) -> None:
    for node in nodes:
        out.append(node)
        if isinstance(node, BranchNode):
            _walk(node.then, out)
            _walk(node.otherwise, out)
        elif isinstance(node, OfferNode):
            for option in node.options:
                _walk(option.steps, out)
        elif isinstance(node, FollowUpClaimNode):
            _walk(node.on_approved, out)
            _walk(node.on_rejected, out)


for _model in (BranchNode, OfferOption, OfferNode, FollowUpClaimNode, Plan):
    _model.model_rebuild()
