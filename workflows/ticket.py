"""TicketWorkflow: one support ticket, one durable conversation that runs its policy.

The workflow routes the ticket to a policy, keeps the compiled plan in its history
(pinning the ticket to that version), and drives the pure interpreter
(`workflows.interpreter`): each command becomes a reply, an activity, a hand-over,
a durable wait or an escalation. Customer messages arrive by signal (webhooks) or
update (synchronous turns), deduplicated by message id.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.catalog import CATALOG
    from activities.platforms.base import NON_RETRYABLE_ERROR_TYPES
    from activities.policy_store import LoadPolicyRequest, RouteRequest, RouteResult
    from activities.understanding import ChoiceOption, UnderstandRequest
    from policies.plan import AskNode, OfferNode, Plan
    from workflows import search_attributes as sa
    from workflows.claim import (
        CarrierClaimWorkflow,
        claim_filed_message,
        final_message,
        history_note,
        parse_duration,
        parse_flag,
        progress_message,
        status_so_far,
        wants_claim_cancelled,
    )
    from workflows.claim_models import (
        APPROVED_STATUSES,
        DEFAULT_CHECK_EVERY,
        DEFAULT_DEADLINE,
        FINAL_STATUSES,
        ClaimFollowUpStart,
        ClaimProgress,
        ClaimSignal,
        claim_workflow_id,
    )
    from workflows.interpreter import (
        Ask,
        CallTool,
        ClaimResolved,
        Command,
        End,
        Escalate,
        Event,
        FollowUpClaim,
        HandOver,
        InterpreterState,
        Reply,
        Say,
        Started,
        ToolFailed,
        ToolSucceeded,
        node_at,
        start_state,
    )
    from workflows.interpreter import Interpreter as PlanInterpreter
    from workflows.ticket_models import (
        MAX_MESSAGE_CHARS,
        AgentAction,
        ClaimUpdate,
        CustomerMessage,
        Outcome,
        TicketCarry,
        TicketOutcome,
        TicketStart,
        TicketState,
        TicketStatus,
        TraceRow,
        TranscriptEntry,
        TurnResult,
    )

# Errors that retrying cannot fix: the platforms' named ones, and input that cannot decode.
NON_RETRYABLE = [*NON_RETRYABLE_ERROR_TYPES, "ValidationError"]

TOOL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE,
)
TOOL_TIMEOUT = timedelta(seconds=30)
# How long a platform may stay down before the policy decides (tell, escalate).
TOOL_GIVE_UP = timedelta(minutes=10)
LOCAL_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=["ValidationError"])

DEFAULT_REMINDER_AFTER = timedelta(hours=24)
DEFAULT_AUTO_CLOSE_AFTER = timedelta(hours=72)

# Helpdesk tools that only talk to the customer: on the web channel they are replies.
MESSAGE_TOOLS = {"send_async_message", "kustomer_send_async_message"}
REAL_HELPDESKS = {"zendesk", "kustomer", "salesforce"}

SLOT_WORDS = {
    "email": "email address",
    "order_number": "order number",
    "address": "shipping address",
    "yes_no": "yes or no",
    "choice": "choice",
    "free_text": "answer",
}


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, start: TicketStart) -> None:
        self._start = start
        carried = start.carried
        self._status = carried.status if carried else TicketStatus.OPEN
        self._transcript: list[TranscriptEntry] = list(carried.transcript) if carried else []
        self._seen: set[str] = set(carried.seen) if carried else set()
        self._replies: dict[str, list[str]] = dict(carried.replies) if carried else {}
        self._inbox: deque[CustomerMessage] = deque(carried.inbox if carried else [])
        self._plans: dict[str, Plan] = (
            {k: Plan.model_validate(v) for k, v in carried.plans.items()} if carried else {}
        )
        self._policy_id: str | None = carried.policy_id if carried else None
        self._interp_state: InterpreterState | None = (
            InterpreterState.model_validate(carried.interpreter)
            if carried and carried.interpreter
            else None
        )
        self._handovers = carried.handovers if carried else 0
        self._trace: list[TraceRow] = list(carried.trace) if carried else []
        self._agent: str | None = carried.agent if carried else None
        self._escalated = carried.escalated if carried else False
        self._routing_attempts = carried.routing_attempts if carried else 0
        self._outcome: str | None = carried.outcome if carried else None
        self._known_slots: dict[str, Any] = dict(carried.known_slots) if carried else {}
        self._variants: dict[str, str] = dict(carried.variants) if carried else {}
        if start.customer.email:
            self._known_slots.setdefault("email", start.customer.email)
        self._indexed_outcome: str | None = None
        self._agent_actions: deque[AgentAction] = deque()
        self._claim_updates: deque[ClaimUpdate] = deque()
        # The carrier-claim follow-up (child workflow) and what it reported.
        self._claim_child_id: str | None = None
        self._claim_child: workflow.ChildWorkflowHandle[Any, Any] | None = None
        self._claim_progress: deque[ClaimProgress] = deque()
        self._claim_last: ClaimProgress | None = None
        self._claim_cancel_asked = False
        self._reminded = False
        self._close_requested = False

    # -- the main loop ----------------------------------------------------------------

    @workflow.run
    async def run(self, start: TicketStart) -> TicketOutcome:
        if start.carried is None:
            # The API sets these when it starts a ticket; index only what a starter left out.
            given = workflow.info().typed_search_attributes
            wanted = [
                sa.TICKET_STATUS.value_set(self._status.value),
                sa.HELPDESK.value_set(start.helpdesk),
                sa.TICKET_TYPE.value_set(start.ticket_type or "unrouted"),
            ]
            missing = [update for update in wanted if given.get(update.key) is None]
            if missing:
                workflow.upsert_search_attributes(missing)
        while self._outcome is None:
            if self._agent is not None or self._escalated:
                await self._wait_for_agent()
                continue
            waiting = self._interp_state.waiting if self._interp_state else None
            if waiting is not None and waiting.kind == "claim":
                await self._wait_for_claim()
                continue
            if not await self._wait_for_customer():
                continue
            message = self._inbox.popleft()
            await self._handle_message(message)
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_start())
        self._settle_status()
        # Let pending update callers read their replies before the run completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TicketOutcome(
            ticket_id=workflow.info().workflow_id, status=self._status, outcome=self._outcome
        )

    async def _wait_for_customer(self) -> bool:
        """Wait for the next message; remind once after silence, then close the ticket."""
        if self._inbox:
            return True
        plan = self._current_plan()
        settings = plan.settings if plan else {}
        reminder_after = parse_duration(settings.get("reminder_after"), DEFAULT_REMINDER_AFTER)
        close_after = parse_duration(settings.get("auto_close_after"), DEFAULT_AUTO_CLOSE_AFTER)
        wait = (
            reminder_after if not self._reminded else max(close_after - reminder_after, timedelta())
        )
        try:
            await workflow.wait_condition(
                lambda: bool(self._inbox) or self._agent is not None or self._close_requested,
                timeout=wait,
            )
        except TimeoutError:
            if not self._reminded and self._transcript:
                self._reminded = True
                await self._tell(
                    [
                        "Just checking in: are you still there? Reply here and I'll pick up "
                        "where we left off."
                    ],
                    key="reminder",
                )
                return False
            if not self._transcript:
                return False
            await self._tell(
                [
                    "I haven't heard back, so I'm closing this conversation for now. "
                    "Write to us any time and we'll continue."
                ],
                key="auto-close",
            )
            self._outcome = Outcome.ABANDONED
            return False
        if self._close_requested:
            self._outcome = self._outcome or Outcome.RESOLVED
            return False
        if self._agent is not None:
            return False
        self._reminded = False
        return True

    async def _wait_for_agent(self) -> None:
        workflow.set_current_details(
            "With an agent: the bot stays silent until the agent releases the ticket."
        )
        await workflow.wait_condition(
            lambda: bool(self._agent_actions) or self._close_requested or bool(self._inbox)
        )
        if self._close_requested:
            self._outcome = self._outcome or Outcome.ESCALATED
            return
        while self._agent_actions:
            action = self._agent_actions.popleft()
            if action.action == "takeover":
                self._agent = action.agent or "agent"
                self._set_status(TicketStatus.ESCALATED)
            elif action.action == "release":
                # Back to the bot: it resumes where the plan waits, or routes anew.
                self._agent = None
                self._escalated = False
                self._set_status(TicketStatus.WAITING_CUSTOMER)
            elif action.action == "resolve":
                self._outcome = self._outcome_after_agent()
            elif action.action == "note" and action.text:
                self._transcript.append(
                    TranscriptEntry(role="agent", text=action.text, at=workflow.now())
                )
        if self._agent is None and not self._escalated:
            return  # released: what the customer wrote meanwhile is the bot's to answer
        while self._inbox:
            # Messages while an agent holds the ticket are recorded for the agent only.
            message = self._inbox.popleft()
            self._replies[message.message_id] = []

    def _outcome_after_agent(self) -> str:
        hint = self._interp_state.outcome_hint if self._interp_state else None
        return hint or Outcome.ESCALATED

    async def _wait_for_claim(self) -> None:
        """Wait for the carrier claim: the follow-up workflow reports every check (traced;
        changes told to the customer) and the final word (the policy carries on); customer
        messages meanwhile get the status so far, or withdraw the claim."""
        self._set_status(TicketStatus.WAITING_CLAIM)
        workflow.set_current_details("Waiting for the carrier to decide the claim.")
        await workflow.wait_condition(
            lambda: (
                bool(self._claim_progress)
                or bool(self._claim_updates)
                or bool(self._inbox)
                or self._agent is not None
            )
        )
        if self._agent is not None:
            return
        if self._claim_progress:
            await self._on_claim_progress(self._claim_progress.popleft())
            return
        if self._inbox:
            await self._answer_during_claim(self._inbox.popleft())
            return
        # No follow-up workflow (the claim had no id): a carrier webhook decides directly.
        update = self._claim_updates.popleft()
        if update.status not in FINAL_STATUSES:
            return
        assert self._interp_state is not None and self._interp_state.waiting is not None
        event = ClaimResolved(
            node=self._interp_state.waiting.node,
            approved=update.status in APPROVED_STATUSES,
            claim=update.model_dump(),
        )
        replies = await self._advance(event)
        await self._tell(replies, key=f"claim-{update.status}")
        self._settle_status()

    async def _start_claim_follow_up(self, command: FollowUpClaim) -> list[str]:
        """Start the child that follows the filed claim; tell the customer its reference."""
        claim_id = str(command.claim.get("claim_id") or "")
        if not claim_id:
            return []
        plan = self._current_plan()
        settings = plan.settings if plan else {}
        every = parse_duration(settings.get("claim_check_every"), DEFAULT_CHECK_EVERY)
        carrier = str(command.claim.get("carrier") or "")
        ticket_id = workflow.info().workflow_id
        child_id = claim_workflow_id(ticket_id, claim_id)
        try:
            self._claim_child = await workflow.start_child_workflow(
                CarrierClaimWorkflow.run,
                ClaimFollowUpStart(
                    ticket_id=ticket_id,
                    claim_id=claim_id,
                    carrier=carrier,
                    status=str(command.claim.get("status") or "submitted"),
                    filed_at=workflow.now(),
                    check_every=every,
                    deadline=parse_duration(settings.get("claim_deadline"), DEFAULT_DEADLINE),
                    still_working_updates=parse_flag(settings.get("claim_weekly_update"), True),
                    idempotency_prefix=ticket_id,
                ),
                id=child_id,
                # Abandon, not terminate: the follow-up outlives a continue-as-new of the
                # ticket, and ends by itself once the ticket is gone.
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"Carrier claim {claim_id} ({carrier or 'carrier'})",
            )
        except WorkflowAlreadyStartedError:
            pass  # the same live claim, already followed: it keeps reporting here
        self._claim_child_id = child_id
        self._claim_cancel_asked = False
        return [claim_filed_message(claim_id, carrier, every)]

    def _claim_follow_up_id(self) -> str | None:
        """The running follow-up's workflow id, while the plan waits for a claim."""
        state = self._interp_state
        if state is None or state.waiting is None or state.waiting.kind != "claim":
            return None
        if self._claim_child_id is None:
            claim = state.context.get("claim")
            claim_id = claim.get("claim_id") if isinstance(claim, dict) else None
            if claim_id:
                self._claim_child_id = claim_workflow_id(workflow.info().workflow_id, claim_id)
        return self._claim_child_id

    async def _on_claim_progress(self, progress: ClaimProgress) -> None:
        state = self._interp_state
        if state is None or state.waiting is None or state.waiting.kind != "claim":
            return  # a late report after the claim was settled
        self._claim_last = progress
        self._trace_claim_check(progress)
        key = f"claim-{progress.claim_id}-{progress.check.at:%Y%m%dT%H%M%S%f}"
        if not progress.final:
            text = progress_message(progress)
            if text:
                await self._tell([text], key=key)
            return
        self._claim_child_id = None
        child, self._claim_child = self._claim_child, None
        if child is not None:
            # It ends right after this report: let it close before the ticket goes on (and
            # perhaps closes), so a child never outlives a finished ticket.
            try:
                await child
            except ChildWorkflowError:
                pass
        note = history_note(progress.claim_id, progress.history)
        if progress.resolution == "deadline":
            await self._tell([final_message(progress)], key=key)
            await self._hand_off(reason="the carrier did not decide the claim in time", note=note)
            return
        if progress.resolution == "cancelled" and self._claim_cancel_asked:
            await self._tell(
                [
                    final_message(progress),
                    "I'm glad it turned up. I'm closing this conversation; write to us any time.",
                ],
                key=key,
            )
            self._outcome = Outcome.RESOLVED
            return
        approved = progress.resolution in APPROVED_STATUSES
        if not approved:
            await self._claim_history_for_agent(progress.claim_id, note)
        claim = state.context.get("claim")
        resolved = {
            **(claim if isinstance(claim, dict) else {}),
            "claim_id": progress.claim_id,
            "status": progress.check.status,
            "approved_amount": progress.check.approved_amount,
        }
        replies = [final_message(progress)]
        replies += await self._advance(
            ClaimResolved(node=state.waiting.node, approved=approved, claim=resolved)
        )
        await self._tell(replies, key=key)
        self._settle_status()

    async def _answer_during_claim(self, message: CustomerMessage) -> None:
        """A customer message while the carrier decides: the status so far, or withdraw."""
        child_id = self._claim_follow_up_id()
        claim = self._interp_state.context.get("claim") if self._interp_state else None
        claim = claim if isinstance(claim, dict) else {}
        claim_id = str(claim.get("claim_id") or "")
        last = self._claim_last
        status = last.check.status if last else str(claim.get("status") or "submitted")
        replies: list[str] = []
        if child_id and wants_claim_cancelled(message.text):
            try:
                await workflow.get_external_workflow_handle(child_id).signal(
                    CarrierClaimWorkflow.claim_update, ClaimSignal(cancel=True, source="ticket")
                )
                self._claim_cancel_asked = True
                replies.append(
                    f"Understood: I've asked the carrier to withdraw claim {claim_id}. "
                    "I'll confirm here in a moment."
                )
            except FailureError:
                pass  # the follow-up has just ended: its final report is on its way
        if not replies:
            replies.append(status_so_far(claim_id, status, last.check.at if last else None))
        await self._tell(replies, key=f"msg-{message.message_id}")
        self._replies[message.message_id] = replies

    def _trace_claim_check(self, progress: ClaimProgress) -> None:
        state = self._interp_state
        plan = self._current_plan()
        if state is None or state.waiting is None or plan is None:
            return
        node = node_at(plan, state.waiting.node)
        check = progress.check
        detail = f"{check.source}: {check.status}"
        if check.changed and check.source != "filed":
            detail += f" (was {progress.previous})"
        if check.detail:
            detail += f"; {check.detail}"
        self._trace.append(
            TraceRow(
                policy_id=state.policy_id,
                node=state.waiting.node,
                step=node.step,
                line=node.line,
                kind="claim_check",
                status="ran",
                at=check.at,
                detail=detail,
            )
        )

    async def _claim_history_for_agent(self, claim_id: str, note: str) -> None:
        """The claim's history as an internal note, before the policy decides what next."""
        self._transcript.append(TranscriptEntry(role="system", text=note, at=workflow.now()))
        if self._start.helpdesk in REAL_HELPDESKS:
            await workflow.execute_activity(
                "helpdesk_internal_note",
                {
                    "helpdesk": self._start.helpdesk,
                    "ticket_id": self._start.external_id,
                    "idempotency_key": f"{workflow.info().workflow_id}/claim-history/{claim_id}",
                    "body": note,
                },
                result_type=dict,
                start_to_close_timeout=TOOL_TIMEOUT,
                schedule_to_close_timeout=TOOL_GIVE_UP,
                retry_policy=TOOL_RETRY,
            )

    async def _tell(self, replies: list[str], *, key: str) -> None:
        """Every bot message: into the transcript, and out through the helpdesk."""
        for text in replies:
            self._transcript.append(TranscriptEntry(role="bot", text=text, at=workflow.now()))
        await self._send_replies(replies, key=key)

    # -- one customer message ---------------------------------------------------------

    async def _handle_message(self, message: CustomerMessage) -> None:
        plan_done = self._interp_state is not None and self._interp_state.finished
        reply = await self._understand(message, expecting=not plan_done)
        wants_person = reply.intent == "human"
        if wants_person:
            replies = ["Of course. I'm passing you to a member of our team, who will reply here."]
        elif self._policy_id is None or plan_done:
            replies = await self._route(message, reply)
        else:
            self._prefill_slots(reply)
            replies = await self._advance(reply)
        await self._tell(replies, key=f"msg-{message.message_id}")
        if wants_person:
            await self._hand_off(
                reason="customer asked for a person", note="The customer asked for a person."
            )
        self._settle_status()
        # Last: the update caller reads the replies and the status they led to.
        self._replies[message.message_id] = replies

    def _settle_status(self) -> None:
        """The status a turn leaves the ticket in."""
        waiting = self._interp_state.waiting if self._interp_state else None
        if self._outcome is not None:
            final = TicketStatus.CLOSED if self._outcome == Outcome.ABANDONED else None
            self._set_status(final or TicketStatus.RESOLVED)
        elif self._escalated or self._agent is not None:
            self._set_status(TicketStatus.ESCALATED)
        elif waiting is not None and waiting.kind == "claim":
            self._set_status(TicketStatus.WAITING_CLAIM)
        else:
            self._set_status(TicketStatus.WAITING_CUSTOMER)

    async def _route(self, message: CustomerMessage, understood: Reply) -> list[str]:
        self._routing_attempts += 1
        route: RouteResult = await workflow.execute_local_activity(
            "route_ticket",
            RouteRequest(
                ticket_type=self._start.ticket_type if self._routing_attempts == 1 else None,
                policy_id=self._start.policy_id if self._routing_attempts == 1 else None,
                text=message.text,
                helpdesk=self._start.helpdesk,
            ),
            result_type=RouteResult,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=LOCAL_RETRY,
        )
        if route.policy_id is None:
            if self._routing_attempts >= 2:
                return await self._escalate_unrouted()
            menu = "\n".join(f"{i}. {item.title}" for i, item in enumerate(route.menu, 1))
            workflow.set_current_details("Waiting for the customer to say what they need.")
            return [f"I can help with these:\n{menu}\nWhich one is it? Reply with a number."]
        await self._enter_policy(route.policy_id)
        # The first message often already says what the policy will ask for.
        self._prefill_slots(understood)
        return await self._advance(Started())

    async def _escalate_unrouted(self) -> list[str]:
        replies = ["Thanks. I'm passing your message to a member of our team, who will help."]
        await self._hand_off(
            reason="no policy matched",
            note="The customer's request did not match any policy after a clarifying question.",
        )
        return replies

    async def _enter_policy(self, policy_id: str) -> None:
        plan = self._plans.get(policy_id)
        if plan is None:
            # Local: the worker holds the library; the plan still lands in history (a marker),
            # so the ticket stays pinned to it, without an extra task round trip.
            plan = await workflow.execute_local_activity(
                "load_policy",
                LoadPolicyRequest(policy_id=policy_id),
                result_type=Plan,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LOCAL_RETRY,
            )
            self._plans[policy_id] = plan
        context = dict(self._interp_state.context) if self._interp_state else {}
        if not context:
            context = self._initial_context()
        self._policy_id = policy_id
        self._interp_state = start_state(plan, context)
        attributes = [
            sa.POLICY_ID.value_set(plan.id),
            sa.POLICY_VERSION.value_set(plan.version),
        ]
        self._prefill_slots()
        if not self._start.ticket_type and plan.ticket_types:
            attributes.append(sa.TICKET_TYPE.value_set(plan.ticket_types[0]))
        if plan.variants and policy_id not in self._variants:
            # A/B variants: drawn once per ticket and policy, deterministically on replay.
            self._variants[policy_id] = workflow.random().choice(plan.variants).name
        if policy_id in self._variants:
            attributes.append(sa.VARIANT.value_set(self._variants[policy_id]))
            self._interp_state.context.setdefault("variant", self._variants[policy_id])
        workflow.upsert_search_attributes(attributes)

    def _initial_context(self) -> dict[str, Any]:
        """`$ticket`, `$customer` and `$message` always exist; the caller's context joins."""
        context: dict[str, Any] = dict(self._start.context)
        customer = self._start.customer.model_dump(exclude_none=True)
        context["customer"] = {**customer, **context.get("customer", {})}
        context.setdefault(
            "ticket",
            {
                "helpdesk": self._start.helpdesk,
                "id": self._start.external_id,
                "type": self._start.ticket_type,
            },
        )
        first = next((e.text for e in self._transcript if e.role == "customer"), "")
        context.setdefault("message", first)
        return context

    async def _understand(self, message: CustomerMessage, *, expecting: bool) -> Reply:
        ask_slot: str | None = None
        options: list[ChoiceOption] = []
        state = self._interp_state
        plan = self._current_plan()
        if expecting and state and state.waiting and plan and state.waiting.kind == "reply":
            ask_slot = state.waiting.slot
            node = node_at(plan, state.waiting.node)
            if isinstance(node, OfferNode):
                options = [ChoiceOption(id=o.id, label=o.label) for o in node.options]
            elif isinstance(node, AskNode) and node.options:
                options = [ChoiceOption(id=o, label=o) for o in node.options]
        reply: Reply = await workflow.execute_local_activity(
            "understand_reply",
            UnderstandRequest(text=message.text, expecting=ask_slot, options=options),
            result_type=Reply,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=LOCAL_RETRY,
        )
        return reply

    def _prefill_slots(self, reply: Reply | None = None) -> None:
        """Bind what the customer already told us (in any message, to any policy) to every
        data slot the current plan would ask for: the bot never asks twice."""
        if reply is not None:
            self._known_slots.update(reply.slots)
        plan = self._current_plan()
        if plan is None or self._interp_state is None:
            return
        context = self._interp_state.context
        for node in plan.walk():
            if isinstance(node, AskNode) and node.skip_if_known:
                if node.slot in self._known_slots:
                    context.setdefault(node.var, self._known_slots[node.slot])

    # -- driving the interpreter ------------------------------------------------------

    async def _advance(self, event: Event) -> list[str]:
        """Feed one event, carry out the commands until the next wait point."""
        replies: list[str] = []
        pending: list[Event] = [event]
        while pending and self._interp_state is not None:
            plan = self._current_plan()
            assert plan is not None
            state, commands = PlanInterpreter(plan).advance(
                self._interp_state, pending.pop(0), workflow.now()
            )
            self._interp_state = state
            self._collect_trace()
            for command in commands:
                follow_up = await self._carry_out(command, replies)
                if follow_up is not None:
                    pending.append(follow_up)
        self._describe_wait()
        return replies

    async def _carry_out(self, command: Command, replies: list[str]) -> Event | None:
        if isinstance(command, Say):
            replies.append(command.text)
        elif isinstance(command, Ask):
            replies.append(self._question_text(command))
        elif isinstance(command, CallTool):
            return await self._call_tool(command, replies)
        elif isinstance(command, HandOver):
            self._handovers += 1
            await self._enter_policy(command.policy_id)
            return Started()
        elif isinstance(command, FollowUpClaim):
            self._set_status(TicketStatus.WAITING_CLAIM)
            replies.extend(await self._start_claim_follow_up(command))
        elif isinstance(command, Escalate):
            await self._hand_off(reason=command.reason, note=command.note)
        elif isinstance(command, End):
            self._outcome = command.outcome
        return None

    def _question_text(self, ask: Ask) -> str:
        """The question, with numbered options (and what each offer means)."""
        if not ask.options:
            return ask.question
        plan = self._current_plan()
        node = node_at(plan, ask.node) if plan else None
        lines = [ask.question]
        if isinstance(node, OfferNode):
            for i, option in enumerate(node.options, 1):
                about = option.description if "@" not in option.description else ""
                lines.append(f"{i}. {option.label}" + (f": {about}" if about else ""))
            lines.append("Reply with a number, or tell me if you'd still like to cancel.")
        else:
            lines += [f"{i}. {label}" for i, label in enumerate(ask.options, 1)]
        return "\n".join(lines)

    def _idempotency_key(self, node: str) -> str:
        return f"{workflow.info().workflow_id}/{self._handovers}/{self._policy_id}/{node}"

    async def _call_tool(self, command: CallTool, replies: list[str]) -> Event:
        helpdesk = self._start.helpdesk
        if command.tool in MESSAGE_TOOLS and helpdesk not in REAL_HELPDESKS:
            # On the web channel "send an async message" is simply a reply.
            message = command.args.get("message")
            if message:
                replies.append(str(message))
            return ToolSucceeded(node=command.node, result={"sent": True})
        spec = CATALOG.get(command.tool)
        if spec is not None:
            try:
                spec.params.model_validate(command.args)
            except ValidationError as err:
                # What the policy passes does not fit the tool: the policy decides, now,
                # instead of an activity retrying arguments it can never decode.
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
                )
                return ToolFailed(
                    node=command.node, error_type="InvalidArguments", message=problems
                )
        envelope: dict[str, Any] = {
            "params": command.args,
            "idempotency_key": self._idempotency_key(command.node),
            "platform": command.platform,
            "platforms": self._platforms(),
            "helpdesk": helpdesk,
            "ticket_id": self._start.external_id,
            "conversation_id": self._start.external_id,
        }
        try:
            result = await workflow.execute_activity(
                command.tool,
                envelope,
                result_type=dict,
                start_to_close_timeout=TOOL_TIMEOUT,
                schedule_to_close_timeout=TOOL_GIVE_UP,
                retry_policy=TOOL_RETRY,
                summary=f"@{command.tool} ({command.platform or 'default platform'})",
            )
        except ActivityError as err:
            cause = err.cause
            error_type = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            return ToolFailed(node=command.node, error_type=error_type or "Error", message=message)
        return ToolSucceeded(node=command.node, result=result or {})

    async def _hand_off(self, *, reason: str, note: str) -> None:
        self._escalated = True
        self._set_status(TicketStatus.ESCALATED)
        summary = self._summary_for_agent(reason, note)
        self._transcript.append(TranscriptEntry(role="system", text=summary, at=workflow.now()))
        if self._start.helpdesk in REAL_HELPDESKS:
            await workflow.execute_activity(
                "handoff_to_agent",
                {
                    "helpdesk": self._start.helpdesk,
                    "ticket_id": self._start.external_id,
                    "idempotency_key": self._idempotency_key(f"handoff-{len(self._trace)}"),
                    "params": {"reason": reason, "note": summary},
                },
                result_type=dict,
                start_to_close_timeout=TOOL_TIMEOUT,
                schedule_to_close_timeout=TOOL_GIVE_UP,
                retry_policy=TOOL_RETRY,
            )

    def _summary_for_agent(self, reason: str, note: str) -> str:
        done = [
            f"- {row.detail or row.kind} (step {row.step or row.node})"
            for row in self._trace
            if row.kind == "call" and row.status == "ran"
        ]
        lines = [f"Handed over by ticketflow: {reason}."]
        if note:
            lines.append(note)
        if self._policy_id:
            lines.append(f"Policy: {self._policy_id}.")
        if done:
            lines.append("Done so far:\n" + "\n".join(done))
        return "\n".join(lines)

    async def _send_replies(self, replies: list[str], *, key: str) -> None:
        """Replies go back through the helpdesk's own API (the web channel reads them)."""
        if self._start.helpdesk not in REAL_HELPDESKS or not replies:
            return
        await workflow.execute_activity(
            "send_async_message",
            {
                "helpdesk": self._start.helpdesk,
                "ticket_id": self._start.external_id,
                "idempotency_key": f"{workflow.info().workflow_id}/reply/{key}",
                "params": {"message": "\n\n".join(replies)},
            },
            result_type=dict,
            start_to_close_timeout=TOOL_TIMEOUT,
            schedule_to_close_timeout=TOOL_GIVE_UP,
            retry_policy=TOOL_RETRY,
        )

    # -- bookkeeping --------------------------------------------------------------------

    def _platforms(self) -> list[str]:
        """The ticket's platforms: the entry policy's first, so a policy handed over to
        runs its generic tools ("the store") on the same store as the one that called it."""
        ordered: list[str] = []
        for plan in self._plans.values():  # insertion order: the entry policy first
            ordered += [p for p in plan.platforms if p not in ordered]
        return ordered

    def _current_plan(self) -> Plan | None:
        return self._plans.get(self._policy_id) if self._policy_id else None

    def _collect_trace(self) -> None:
        state = self._interp_state
        if state is None:
            return
        for entry in state.trace:
            self._trace.append(TraceRow(policy_id=state.policy_id, **entry.model_dump()))
        state.trace.clear()

    def _describe_wait(self) -> None:
        """Keep the UI's current details a sentence an operator can read."""
        state = self._interp_state
        if state is None or state.waiting is None:
            return
        waiting = state.waiting
        plan = self._current_plan()
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

    def _set_status(self, status: TicketStatus) -> None:
        """One upsert, and only for what changed: every upsert is a history event."""
        changes = []
        if status != self._status:
            self._status = status
            changes.append(sa.TICKET_STATUS.value_set(status.value))
        if self._outcome and self._outcome != self._indexed_outcome:
            self._indexed_outcome = str(self._outcome)
            changes.append(sa.OUTCOME.value_set(self._indexed_outcome))
        if changes:
            workflow.upsert_search_attributes(changes)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        limit = self._start.history_limit
        return info.is_continue_as_new_suggested() or (
            limit is not None and info.get_current_history_length() > limit
        )

    def _carry_start(self) -> TicketStart:
        carry = TicketCarry(
            status=self._status,
            transcript=self._transcript,
            seen=sorted(self._seen),
            replies=self._replies,
            inbox=list(self._inbox),
            interpreter=self._interp_state.model_dump(mode="json") if self._interp_state else None,
            plans={k: v.model_dump(mode="json") for k, v in self._plans.items()},
            policy_id=self._policy_id,
            handovers=self._handovers,
            trace=self._trace,
            agent=self._agent,
            escalated=self._escalated,
            routing_attempts=self._routing_attempts,
            outcome=self._outcome,
            known_slots=self._known_slots,
            variants=self._variants,
        )
        return self._start.model_copy(update={"carried": carry})

    def _accept(self, message: CustomerMessage) -> None:
        self._seen.add(message.message_id)
        self._transcript.append(
            TranscriptEntry(
                role="customer",
                text=message.text,
                at=message.sent_at or workflow.now(),
                message_id=message.message_id,
            )
        )
        self._inbox.append(message)

    # -- handlers ---------------------------------------------------------------------

    @workflow.signal
    def customer_message(self, message: CustomerMessage) -> None:
        """Asynchronous delivery (webhooks); redelivery of a message id is ignored."""
        if message.message_id not in self._seen:
            self._accept(message)

    @workflow.update
    async def message(self, message: CustomerMessage) -> TurnResult:
        """Synchronous turn: returns the bot's replies up to the next wait point."""
        duplicate = message.message_id in self._seen
        if not duplicate:
            self._accept(message)
        await workflow.wait_condition(lambda: message.message_id in self._replies)
        return TurnResult(
            ticket_id=workflow.info().workflow_id,
            message_id=message.message_id,
            replies=self._replies[message.message_id],
            status=self._status,
            duplicate=duplicate,
        )

    @message.validator
    def _validate_message(self, message: CustomerMessage) -> None:
        if not message.text.strip():
            raise ValueError("message text is empty")
        if len(message.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"message text is longer than {MAX_MESSAGE_CHARS} characters")

    @workflow.signal
    def agent_action(self, action: AgentAction) -> None:
        if action.action == "takeover":
            self._agent = action.agent or "agent"
        self._agent_actions.append(action)

    @workflow.signal
    async def claim_update(self, update: ClaimUpdate) -> None:
        """A carrier webhook (verified by the API): wakes the claim follow-up at once."""
        child_id = self._claim_follow_up_id()
        if child_id is None:
            self._claim_updates.append(update)  # no follow-up running: the wait decides
            return
        try:
            await workflow.get_external_workflow_handle(child_id).signal(
                CarrierClaimWorkflow.claim_update,
                ClaimSignal(status=update.status or None, approved_amount=update.approved_amount),
            )
        except FailureError:
            pass  # the follow-up has just ended: its final report is on its way

    @workflow.signal
    def claim_progress(self, progress: ClaimProgress) -> None:
        """From the claim follow-up: one check (and, when final, the carrier's decision)."""
        self._claim_progress.append(progress)

    @workflow.signal
    def close(self) -> None:
        self._close_requested = True

    @workflow.query
    def state(self) -> TicketState:
        plan = self._current_plan()
        waiting = self._interp_state.waiting if self._interp_state else None
        waiting_for: str | None = None
        if self._outcome is None:
            if self._agent is not None or self._escalated:
                waiting_for = "agent"
            elif waiting is not None and waiting.kind == "claim":
                waiting_for = "claim"
            elif not self._inbox:
                waiting_for = f"customer:{waiting.slot}" if waiting and waiting.slot else "customer"
        context = self._interp_state.context if self._interp_state else {}
        slots = {
            node.var: context[node.var]
            for node in (plan.walk() if plan else [])
            if isinstance(node, AskNode | OfferNode) and node.var in context
        }
        return TicketState(
            ticket_id=workflow.info().workflow_id,
            helpdesk=self._start.helpdesk,
            external_id=self._start.external_id,
            status=self._status,
            ticket_type=self._start.ticket_type
            or (plan.ticket_types[0] if plan and plan.ticket_types else None),
            policy_id=self._policy_id,
            policy_version=plan.version if plan else None,
            variant=self._variants.get(self._policy_id or ""),
            waiting_for=waiting_for,
            slots=slots,
            outcome=str(self._outcome) if self._outcome else None,
            agent=self._agent,
            messages_received=len(self._seen),
        )

    @workflow.query
    def transcript(self) -> list[TranscriptEntry]:
        return self._transcript

    @workflow.query
    def trace(self) -> list[TraceRow]:
        return self._trace
