"""The plan interpreter: pure, deterministic, no Temporal, no I/O, no clock.

Given a compiled plan, the interpreter's state and the next event (start, the
customer's understood reply, a tool's result or failure, a claim's resolution), it
returns the new state and the commands to carry out up to the next wait point: send
a reply, ask (and for which slot), call a tool, hand over to another policy, follow
up on a claim, escalate, end. The ticket workflow maps those commands onto Temporal.

Every node has a stable address (its path in the plan, e.g. ``2/then/0``), used in
the trace and, by the workflow, in idempotency keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from policies.conditions import (
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    DaysSince,
    Not,
    Truthy,
    Vocab,
)
from policies.plan import (
    AskNode,
    BranchNode,
    CallNode,
    EndNode,
    EscalateNode,
    FollowUpClaimNode,
    Node,
    NoteNode,
    OfferNode,
    OfferOption,
    Outcome,
    Plan,
    SayNode,
    UsePolicyNode,
)
from policies.replies import Reply, missing_facts, take_facts
from workflows.context_values import MISSING as _MISSING
from workflows.context_values import lookup, render, resolve_value

# How many times a slot is asked before the ticket goes to a person.
MAX_ATTEMPTS = 2

# ---------------------------------------------------------------------------
# Events (what happened) and commands (what to do)
# ---------------------------------------------------------------------------


class Started(BaseModel):
    kind: Literal["started"] = "started"


class ToolSucceeded(BaseModel):
    kind: Literal["tool_succeeded"] = "tool_succeeded"
    node: str
    result: dict[str, Any] = Field(default_factory=dict)


class ToolFailed(BaseModel):
    kind: Literal["tool_failed"] = "tool_failed"
    node: str
    error_type: str
    message: str


class ClaimResolved(BaseModel):
    kind: Literal["claim_resolved"] = "claim_resolved"
    node: str
    approved: bool
    claim: dict[str, Any] = Field(default_factory=dict)


Event = Started | Reply | ToolSucceeded | ToolFailed | ClaimResolved


class Say(BaseModel):
    kind: Literal["say"] = "say"
    node: str
    text: str


class Ask(BaseModel):
    kind: Literal["ask"] = "ask"
    node: str
    slot: str
    question: str
    options: list[str] = Field(default_factory=list)


class CallTool(BaseModel):
    kind: Literal["call_tool"] = "call_tool"
    node: str
    tool: str
    platform: str | None
    args: dict[str, Any]
    side_effect: bool


class HandOver(BaseModel):
    kind: Literal["hand_over"] = "hand_over"
    node: str
    policy_id: str


class FollowUpClaim(BaseModel):
    kind: Literal["follow_up_claim"] = "follow_up_claim"
    node: str
    claim: dict[str, Any]


class Escalate(BaseModel):
    kind: Literal["escalate"] = "escalate"
    node: str
    reason: str
    note: str


class End(BaseModel):
    kind: Literal["end"] = "end"
    node: str
    outcome: str


Command = Say | Ask | CallTool | HandOver | FollowUpClaim | Escalate | End

# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------


class Frame(BaseModel):
    """A position in one list of nodes: ``list_path`` names the list, ``index`` the next."""

    list_path: str
    index: int = 0


class Waiting(BaseModel):
    kind: Literal["reply", "tool", "claim", "hand_over", "done"]
    node: str
    slot: str | None = None
    attempts: int = 0


class TraceEntry(BaseModel):
    node: str
    step: str
    line: int
    kind: str
    status: Literal["ran", "skipped", "waiting", "failed"]
    at: datetime
    detail: str = ""


class InterpreterState(BaseModel):
    policy_id: str
    plan_version: str
    stack: list[Frame] = Field(default_factory=lambda: [Frame(list_path="")])
    context: dict[str, Any] = Field(default_factory=dict)
    waiting: Waiting | None = None
    last_intent: str | None = None
    outcome_hint: str | None = None
    outcome: str | None = None
    trace: list[TraceEntry] = Field(default_factory=list)
    answered: list[str] = Field(
        default_factory=list,
        description="vars of choice asks the customer already answered in an earlier message: "
        "skipped like a known slot",
    )

    @property
    def finished(self) -> bool:
        return self.waiting is not None and self.waiting.kind == "done"


def start_state(plan: Plan, context: dict[str, Any] | None = None) -> InterpreterState:
    """A fresh run of `plan`; the plan's `defaults` fill what the context leaves unset."""
    merged = dict(context or {})
    for name, value in plan.defaults.items():
        merged.setdefault(name, value)
    return InterpreterState(policy_id=plan.id, plan_version=plan.version, context=merged)


# ---------------------------------------------------------------------------
# Addressing
# ---------------------------------------------------------------------------


def node_list(plan: Plan, list_path: str) -> list[Node]:
    """Resolve ``""`` (the plan's steps), ``"2/then"``, ``"3/options/1/steps"`` …"""
    nodes: list[Node] = plan.steps
    if not list_path:
        return nodes
    parts = list_path.split("/")
    i = 0
    while i < len(parts):
        node = nodes[int(parts[i])]
        field = parts[i + 1]
        if isinstance(node, OfferNode) and field == "options":
            nodes = node.options[int(parts[i + 2])].steps
            i += 4
            continue
        nodes = getattr(node, field)
        i += 2
    return nodes


def node_at(plan: Plan, address: str) -> Node:
    list_path, _, index = address.rpartition("/")
    return node_list(plan, list_path)[int(index)]


def _address(frame: Frame) -> str:
    return f"{frame.list_path}/{frame.index}" if frame.list_path else str(frame.index)


# ---------------------------------------------------------------------------
# Values, templates and conditions
# ---------------------------------------------------------------------------


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.strip().lower(), right.strip().lower()
    try:
        match op:
            case "==":
                return bool(left == right)
            case "!=":
                return bool(left != right)
            case "<":
                return bool(left < right)
            case "<=":
                return bool(left <= right)
            case ">":
                return bool(left > right)
            case ">=":
                return bool(left >= right)
    except TypeError:
        return False
    return False


def evaluate(cond: Condition, state: InterpreterState, now: datetime | None = None) -> bool:
    """Conditions over context; reply-judged vocabulary reads the latest reply's intent;
    "how long ago" reads `now`, the workflow's time (False without it)."""
    if isinstance(cond, Always):
        return True
    if isinstance(cond, Compare):
        return _compare(
            cond.op,
            resolve_value(cond.left, state.context),
            resolve_value(cond.right, state.context),
        )
    if isinstance(cond, Truthy):
        return bool(resolve_value(cond.value, state.context))
    if isinstance(cond, AllOf):
        return all(evaluate(c, state, now) for c in cond.items)
    if isinstance(cond, AnyOf):
        return any(evaluate(c, state, now) for c in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, state, now)
    if isinstance(cond, DaysSince):
        return _days_since(cond, resolve_value(cond.since, state.context), now)
    if isinstance(cond, Vocab):
        if cond.intent is not None:
            return _intent_matches(cond.intent, state.last_intent)
        if cond.expansion is not None:
            return evaluate(cond.expansion, state, now)
        return False
    raise TypeError(f"unknown condition {cond!r}")


def _days_since(cond: DaysSince, value: Any, now: datetime | None) -> bool:
    if now is None or not value:
        return False
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = (now - when).total_seconds() / 86400
    return _compare(cond.op, days, cond.days)


def _intent_matches(wanted: str, got: str | None) -> bool:
    if got is None:
        return False
    if wanted == got:
        return True
    # A plain yes takes an offer; a plain no turns it down; insisting is declining.
    related = {"accept": {"yes"}, "yes": {"accept"}, "decline": {"no", "insist_cancel"}}
    return got in related.get(wanted, set())


# ---------------------------------------------------------------------------
# The step function
# ---------------------------------------------------------------------------


class Interpreter:
    """Runs one plan. Holds no state of its own: all of it is in `InterpreterState`."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def advance(
        self, state: InterpreterState, event: Event, now: datetime
    ) -> tuple[InterpreterState, list[Command]]:
        state = state.model_copy(deep=True)
        commands: list[Command] = []
        if state.finished:
            return state, commands
        if not isinstance(event, Started):
            if not self._resume(state, event, now, commands):
                return state, commands
        self._run(state, now, commands)
        return state, commands

    # -- resuming at the wait point ------------------------------------------------

    def _resume(
        self, state: InterpreterState, event: Event, now: datetime, out: list[Command]
    ) -> bool:
        waiting = state.waiting
        if waiting is None:
            return True
        node = node_at(self.plan, waiting.node)
        if isinstance(event, Reply) and event.intent == "human":
            self._escalate(
                state,
                waiting.node,
                node,
                now,
                out,
                reason="customer asked for a person",
                note="The customer asked to talk to a person.",
            )
            return False
        if waiting.kind == "reply" and isinstance(event, Reply):
            return self._resume_reply(state, node, event, now, out)
        if waiting.kind == "tool" and isinstance(event, ToolSucceeded | ToolFailed):
            if event.node != waiting.node:
                return False
            assert isinstance(node, CallNode)
            if isinstance(event, ToolFailed):
                detail = f"{event.error_type}: {event.message}"[:300]
                self._trace(state, waiting.node, node, "failed", now, detail)
                state.context["last_error"] = {"type": event.error_type, "message": event.message}
                out.append(
                    Say(
                        node=waiting.node,
                        text="I'm sorry, I couldn't complete that step on our side. "
                        "I'm passing your request to a member of our team, who will follow up.",
                    )
                )
                self._escalate(
                    state,
                    waiting.node,
                    node,
                    now,
                    out,
                    reason=f"{node.tool} failed",
                    note=f"@{node.tool} failed ({event.error_type}): {event.message}",
                )
                return False
            state.context[node.result] = event.result
            if node.outcome is not None:
                state.outcome_hint = node.outcome
            self._trace(state, waiting.node, node, "ran", now, "result received")
            state.waiting = None
            self._step_over(state)
            return True
        if waiting.kind == "claim" and isinstance(event, ClaimResolved):
            assert isinstance(node, FollowUpClaimNode)
            state.context[node.claim] = event.claim
            approved, rejected = Outcome.CLAIM_APPROVED, Outcome.CLAIM_REJECTED
            state.outcome_hint = approved if event.approved else rejected
            self._trace(
                state, waiting.node, node, "ran", now, "approved" if event.approved else "rejected"
            )
            state.waiting = None
            self._step_over(state)
            branch = "on_approved" if event.approved else "on_rejected"
            state.stack.append(Frame(list_path=f"{waiting.node}/{branch}"))
            return True
        # An event the current wait point does not expect: nothing to do.
        return False

    def _resume_reply(
        self, state: InterpreterState, node: Node, event: Reply, now: datetime, out: list[Command]
    ) -> bool:
        waiting = state.waiting
        assert waiting is not None
        state.last_intent = event.intent
        if isinstance(node, AskNode):
            value = _slot_value(node.slot, event)
            if node.also:  # one question, several facts: keep what came, ask for the rest
                value = take_facts(node, event, state.context, value)
                if value is not None and (missing := missing_facts(node, state.context)):
                    state.context[node.var] = value
                    waiting.slot = missing[0].slot
                    out.append(
                        Ask(node=waiting.node, slot=waiting.slot, question=missing[0].question)
                    )
                    return False
            if value is not None:
                state.context[node.var] = value
                self._trace(state, waiting.node, node, "ran", now, f"{node.slot} received")
                state.waiting = None
                self._step_over(state)
                return True
            return self._retry(state, node, node.question, node.options, now, out, event)
        if isinstance(node, OfferNode):
            if event.intent in {"decline", "no", "insist_cancel"} and not event.choice:
                state.context[node.var] = {"accepted": False, "choice": None}
                self._trace(state, waiting.node, node, "ran", now, "declined")
                state.waiting = None
                self._step_over(state)
                return True
            if event.choice:
                index = next((i for i, o in enumerate(node.options) if o.id == event.choice), None)
                if index is not None:
                    state.context[node.var] = {"accepted": True, "choice": event.choice}
                    state.last_intent = "accept"
                    self._trace(state, waiting.node, node, "ran", now, f"chose {event.choice}")
                    state.waiting = None
                    self._step_over(state)
                    state.stack.append(Frame(list_path=f"{waiting.node}/options/{index}/steps"))
                    return True
            return self._retry(state, node, node.prompt, node.options, now, out, event)
        return False

    def _retry(
        self,
        state: InterpreterState,
        node: Node,
        question: str,
        options: list[str] | list[OfferOption],
        now: datetime,
        out: list[Command],
        event: Reply | None = None,
    ) -> bool:
        waiting = state.waiting
        assert waiting is not None
        waiting.attempts += 1
        if waiting.attempts >= MAX_ATTEMPTS:
            out.append(
                Say(
                    node=waiting.node,
                    text="I'm sorry, I'm having trouble understanding. "
                    "A member of our team will take it from here.",
                )
            )
            self._escalate(
                state,
                waiting.node,
                node,
                now,
                out,
                reason="reply not understood",
                note=f"The customer's answer to step {node.step or waiting.node} was not "
                f"understood after {waiting.attempts} attempts.",
            )
            return False
        clarify = f"Sorry, I didn't quite get that. {render(question, state.context)}"
        labels = {o.id: o.label for o in options if isinstance(o, OfferOption)}
        labels.update({o: o for o in options if isinstance(o, str)})
        close = [labels[i] for i in (event.unsure_between if event else []) if i in labels]
        if len(close) >= 2:
            # One clarifying question naming the options the reply fits equally.
            clarify = f"Just to be sure: did you mean {', '.join(close[:-1])} or {close[-1]}?"
        out.append(
            Ask(
                node=waiting.node,
                slot=waiting.slot or "free_text",
                question=clarify,
                options=[o.label if isinstance(o, OfferOption) else o for o in options],
            )
        )
        return False

    # -- running until the next wait point -------------------------------------------

    def _step_over(self, state: InterpreterState) -> None:
        state.stack[-1].index += 1

    def _run(self, state: InterpreterState, now: datetime, out: list[Command]) -> None:
        while state.stack and state.waiting is None:
            frame = state.stack[-1]
            nodes = node_list(self.plan, frame.list_path)
            if frame.index >= len(nodes):
                state.stack.pop()
                continue
            address = _address(frame)
            self._exec(state, address, nodes[frame.index], now, out)
        if not state.stack and state.waiting is None:
            outcome = state.outcome_hint or Outcome.RESOLVED
            state.outcome = outcome
            state.waiting = Waiting(kind="done", node="end")
            out.append(End(node="end", outcome=outcome))

    def _exec(
        self, state: InterpreterState, address: str, node: Node, now: datetime, out: list[Command]
    ) -> None:
        ctx = state.context
        if isinstance(node, SayNode):
            out.append(Say(node=address, text=render(node.text, ctx)))
            self._trace(state, address, node, "ran", now)
            self._step_over(state)
        elif isinstance(node, NoteNode):
            self._trace(state, address, node, "skipped", now, "note: runs nothing")
            self._step_over(state)
        elif isinstance(node, AskNode):
            known = lookup(ctx, node.var.split(".")) not in (_MISSING, None)
            if (
                known
                and (node.skip_if_known or node.var in state.answered)
                and not missing_facts(node, ctx)
            ):
                self._trace(state, address, node, "skipped", now, f"${node.var} already known")
                self._step_over(state)
                return
            # the first fact known already (volunteered earlier): ask only for what's missing
            rest = missing_facts(node, ctx)[:1] if known and node.skip_if_known else []
            slot, question = (
                (rest[0].slot, rest[0].question) if rest else (node.slot, node.question)
            )
            out.append(
                Ask(node=address, slot=slot, question=render(question, ctx), options=node.options)
            )
            state.waiting = Waiting(kind="reply", node=address, slot=slot)
            self._trace(state, address, node, "waiting", now, f"for {node.slot}")
        elif isinstance(node, OfferNode):
            labels = [o.label for o in node.options]
            out.append(
                Ask(
                    node=address,
                    slot="choice",
                    question=render(node.prompt, ctx),
                    options=labels,
                )
            )
            state.waiting = Waiting(kind="reply", node=address, slot="choice")
            self._trace(state, address, node, "waiting", now, "for a choice")
        elif isinstance(node, CallNode):
            args = {name: resolve_value(value, ctx) for name, value in node.args.items()}
            out.append(
                CallTool(
                    node=address,
                    tool=node.tool,
                    platform=node.platform,
                    args=args,
                    side_effect=node.side_effect,
                )
            )
            state.waiting = Waiting(kind="tool", node=address)
            self._trace(state, address, node, "waiting", now, f"@{node.tool}")
        elif isinstance(node, BranchNode):
            taken = evaluate(node.condition, state, now)
            self._trace(state, address, node, "ran", now, "then" if taken else "otherwise")
            self._step_over(state)
            branch = "then" if taken else "otherwise"
            if getattr(node, branch):
                state.stack.append(Frame(list_path=f"{address}/{branch}"))
        elif isinstance(node, UsePolicyNode):
            out.append(HandOver(node=address, policy_id=node.policy_id))
            self._trace(state, address, node, "ran", now, f"hand over to {node.policy_id}")
            state.stack.clear()
            state.waiting = Waiting(kind="hand_over", node=address)
        elif isinstance(node, FollowUpClaimNode):
            out.append(Say(node=address, text=render(node.notice, ctx)))
            claim = ctx.get(node.claim)
            out.append(FollowUpClaim(node=address, claim=claim if isinstance(claim, dict) else {}))
            state.waiting = Waiting(kind="claim", node=address)
            self._trace(state, address, node, "waiting", now, "for the carrier claim")
        elif isinstance(node, EscalateNode):
            self._escalate(
                state, address, node, now, out, reason=node.reason, note=render(node.note, ctx)
            )
        elif isinstance(node, EndNode):
            state.outcome = (
                node.outcome if node.outcome != "resolved" else (state.outcome_hint or node.outcome)
            )
            self._trace(state, address, node, "ran", now, state.outcome)
            state.stack.clear()
            state.waiting = Waiting(kind="done", node=address)
            out.append(End(node=address, outcome=state.outcome))
        else:  # pragma: no cover - the plan's union is closed
            raise TypeError(f"unknown node {node!r}")

    def _escalate(
        self,
        state: InterpreterState,
        address: str,
        node: Node,
        now: datetime,
        out: list[Command],
        *,
        reason: str,
        note: str,
    ) -> None:
        self._trace(state, address, node, "ran", now, f"escalated: {reason}")
        state.stack.clear()
        state.outcome = "escalated"
        state.waiting = Waiting(kind="done", node=address)
        out.append(Escalate(node=address, reason=reason, note=note))

    def _trace(
        self,
        state: InterpreterState,
        address: str,
        node: Node,
        status: Literal["ran", "skipped", "waiting", "failed"],
        now: datetime,
        detail: str = "",
    ) -> None:
        state.trace.append(
            TraceEntry(
                node=address,
                step=node.step,
                line=node.line,
                kind=node.kind,
                status=status,
                at=now,
                detail=detail,
            )
        )


def _slot_value(slot: str, reply: Reply) -> Any:
    if slot == "free_text":
        return reply.text.strip() or None
    if slot == "yes_no":
        if reply.intent in {"yes", "accept"}:
            return True
        if reply.intent in {"no", "decline", "insist_cancel"}:
            return False
        return None
    if slot == "choice":
        return reply.choice
    if slot == "address" and "address" not in reply.slots and reply.intent in {"yes", "accept"}:
        # "Should it go to the address on file? If not, give the new one." — yes keeps it.
        return ""
    return reply.slots.get(slot)
