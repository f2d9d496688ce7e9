"""Running the plan: feed the interpreter an event, carry out its commands (replies, tool
activities, hand-overs, claim follow-ups, escalations) until the plan waits again."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.redaction import redact
    from activities.tools import ticket_tool_call
    from policies.catalog import CATALOG
    from policies.customer_text import for_customer, offer_message
    from policies.plan import OfferNode
    from workflows.activity_options import platform_activity
    from workflows.interpreter import (
        Ask,
        CallTool,
        Command,
        End,
        Escalate,
        Event,
        FollowUpClaim,
        HandOver,
        Say,
        Started,
        ToolFailed,
        ToolSucceeded,
        node_at,
        render,
    )
    from workflows.interpreter import Interpreter as PlanInterpreter
    from workflows.ticket_claims import ClaimFollowUp
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_models import TicketMemory, TicketStart, TicketStatus, TraceRow
    from workflows.ticket_routing import PolicyEntry
    from workflows.ticket_status import set_status

# Helpdesk tools that only talk to the customer: on the web channel they are replies.
MESSAGE_TOOLS = {"send_async_message", "kustomer_send_async_message"}

SLOT_WORDS = {
    "email": "email address",
    "order_number": "order number",
    "address": "shipping address",
    "yes_no": "yes or no",
    "choice": "choice",
    "free_text": "answer",
}


class PolicySteps:
    def __init__(
        self,
        start: TicketStart,
        mem: TicketMemory,
        helpdesk: HelpdeskIO,
        entry: PolicyEntry,
        claims: ClaimFollowUp,
    ) -> None:
        self.start = start
        self.mem = mem
        self.helpdesk = helpdesk
        self.entry = entry
        self.claims = claims

    async def advance(self, event: Event) -> list[str]:
        """Feed one event, carry out the commands until the next wait point; returns what
        to tell the customer."""
        replies: list[str] = []
        pending: list[Event] = [event]
        while pending and self.mem.interpreter is not None:
            plan = self.mem.current_plan()
            assert plan is not None
            state, commands = PlanInterpreter(plan).advance(
                self.mem.interpreter, pending.pop(0), workflow.now()
            )
            self.mem.interpreter = state
            self._collect_trace()
            for command in commands:
                follow_up = await self._carry_out(command, replies)
                if follow_up is not None:
                    pending.append(follow_up)
        self._describe_wait()
        # Nothing the customer reads shows policy syntax (`#Policy`, `@tool`, an unfilled
        # `$var`), whatever an author or a template left in it.
        return [for_customer(r) for r in replies]

    async def _carry_out(self, command: Command, replies: list[str]) -> Event | None:
        if isinstance(command, Say):
            replies.append(command.text)
        elif isinstance(command, Ask):
            replies.append(self._question_text(command))
        elif isinstance(command, CallTool):
            return await self._call_tool(command, replies)
        elif isinstance(command, HandOver):
            await self.entry.enter(command.policy_id)
            return Started()
        elif isinstance(command, FollowUpClaim):
            set_status(self.mem, TicketStatus.WAITING_CLAIM, self.helpdesk.index)
            replies.extend(await self.claims.follow(command))
        elif isinstance(command, Escalate):
            await self.helpdesk.hand_off(reason=command.reason, note=command.note)
        elif isinstance(command, End):
            self.mem.outcome = command.outcome
            if command.outcome != "escalated":  # a person takes both requests from here
                replies.extend(self._later_reminder())
        return None

    def _later_reminder(self) -> list[str]:
        """The opening asked for two things and the first is done: say how to get the
        second (a new message starts a new conversation, routed afresh)."""
        mem = self.mem
        if not mem.later_policy_id or mem.later_policy_id == mem.policy_id:
            return []
        about = mem.later_about or "your other request"
        mem.later_policy_id = None
        return [
            f"You also mentioned {about}. Write to us again about that and I'll help with it "
            "straight away."
        ]

    def _question_text(self, ask: Ask) -> str:
        """The question, with numbered options (and what each offer means)."""
        if not ask.options:
            return ask.question
        plan = self.mem.current_plan()
        node = node_at(plan, ask.node) if plan else None
        if isinstance(node, OfferNode) and plan is not None:
            context = self.mem.interpreter.context if self.mem.interpreter else {}
            options = [(o.label, render(o.description, context)) for o in node.options]
            return offer_message(
                ask.question, options, situation=" ".join([plan.id, plan.title, *plan.ticket_types])
            )
        lines = [ask.question, *(f"{i}. {label}" for i, label in enumerate(ask.options, 1))]
        return "\n".join(lines)

    def idempotency_key(self, node: str) -> str:
        """One key per plan node per policy entry: a retried or replayed step never acts
        twice, and a policy entered anew (after a release, a hand-over) acts again."""
        mem = self.mem
        return f"{workflow.info().workflow_id}/{mem.entry}/{mem.policy_id}/{node}"

    async def _call_tool(self, command: CallTool, replies: list[str]) -> Event:
        if command.tool in MESSAGE_TOOLS and not self.helpdesk.real:
            # On the web channel "send an async message" is simply a reply.
            message = command.args.get("message")
            if message:
                replies.append(str(message))
            return ToolSucceeded(node=command.node, result={"sent": True})
        spec = CATALOG.get(command.tool)
        if spec is None:
            return ToolFailed(
                node=command.node, error_type="UnknownTool", message=f"no tool @{command.tool}"
            )
        try:
            params = spec.params.model_validate(command.args)
        except ValidationError as err:
            # What the policy passes does not fit the tool: the policy decides, now,
            # instead of an activity retrying arguments it can never decode.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            return ToolFailed(node=command.node, error_type="InvalidArguments", message=problems)
        call = ticket_tool_call(
            spec,
            params,
            platforms=self._platforms(),
            helpdesk=self.start.helpdesk,
            ticket_id=self.start.external_id,
            idempotency_key=self.idempotency_key(command.node),
            policy_id=self.mem.policy_id,
        )
        try:
            result = await platform_activity(
                spec.name,
                call,
                spec.result,
                summary=f"@{spec.name} ({call.platform or 'no platform'})",
            )
        except ActivityError as err:
            cause = err.cause
            error_type = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            # Ids only in the log line (replay-safe: workflow.logger skips replays).
            workflow.logger.warning(
                "tool failed",
                extra={
                    "policy_id": self.mem.policy_id,
                    "tool": spec.name,
                    "error_type": error_type,
                },
            )
            # The message goes on to the trace, the transcript and the agent's note.
            return ToolFailed(
                node=command.node, error_type=error_type or "Error", message=redact(message)
            )
        return ToolSucceeded(node=command.node, result=result.model_dump(mode="json"))

    def _platforms(self) -> list[str]:
        """The ticket's platforms: the entry policy's first, so a policy handed over to
        runs its generic tools ("the store") on the same store as the one that called it."""
        ordered: list[str] = []
        for plan in self.mem.plans.values():  # insertion order: the entry policy first
            ordered += [p for p in plan.platforms if p not in ordered]
        return ordered

    def _collect_trace(self) -> None:
        state = self.mem.interpreter
        if state is None:
            return
        for entry in state.trace:
            self.mem.trace.append(TraceRow(policy_id=state.policy_id, **entry.model_dump()))
        state.trace.clear()

    def _describe_wait(self) -> None:
        """Keep the UI's current details a sentence an operator can read."""
        waiting = self.mem.waiting
        plan = self.mem.current_plan()
        if waiting is None:
            return
        if waiting.kind == "reply" and plan is not None:
            node = node_at(plan, waiting.node)
            if isinstance(node, OfferNode):
                details = "Waiting for the customer to choose a retention offer or decline."
            else:
                words = SLOT_WORDS.get(waiting.slot or "", "answer")
                details = f"Waiting for the customer's {words} (step {node.step or waiting.node})."
            workflow.set_current_details(details)
        elif waiting.kind == "claim":
            workflow.set_current_details("Waiting for the carrier to decide the claim.")
