"""TicketWorkflow: one support ticket, one durable conversation that runs its policy.

Everything that reaches a ticket (customer messages by signal or update, agent actions,
claim reports, close) goes into one ordered inbox that the main loop drains, one item at
a time; the state is one model (`TicketMemory`) that continue-as-new carries whole. An
update returns once *its* message has been handled, whatever else is in flight, and the
run ends or continues as new only with an empty inbox and no handler waiting.

The parts of the ticket live beside this file: the inbox (`ticket_inbox`), a customer
message's turn (`ticket_conversation`), routing and policy entry (`ticket_routing`),
running the plan (`ticket_steps`), claims (`ticket_claims`), agents and close
(`ticket_agent`), the customer's silence (`ticket_silence`), the CustomerKey
(`ticket_customer_key`), outcomes and ratings (`ticket_measures`), the status
(`ticket_status`) and the helpdesk (`ticket_helpdesk`).
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from policies.plan import AskNode, OfferNode
    from workflows import search_attributes as sa
    from workflows.claim_models import ClaimProgress
    from workflows.ticket_agent import AgentActions
    from workflows.ticket_claims import ClaimFollowUp
    from workflows.ticket_conversation import Conversation
    from workflows.ticket_customer_key import CUSTOMER_KEY_PATCH, CustomerKeyIndex
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_inbox import TicketInbox
    from workflows.ticket_measures import MEASURES_OUTCOMES, TicketMeasures
    from workflows.ticket_models import (
        MAX_MESSAGE_CHARS,
        AgentAction,
        ClaimUpdate,
        CustomerMessage,
        InboxAgentAction,
        InboxClaimProgress,
        InboxClaimUpdate,
        InboxClose,
        InboxItem,
        InboxMessage,
        TicketMemory,
        TicketOutcome,
        TicketStart,
        TicketState,
        TraceRow,
        TranscriptEntry,
        TurnResult,
    )
    from workflows.ticket_routing import (
        FIRST_TURN_TAKES_STARTS_POLICY,
        POLICY_VERSION_FROM_START,
        REPLIES_BY_MEANING,
        ROUTING_ASKS_BETWEEN_TWO,
        PolicyEntry,
    )
    from workflows.ticket_silence import CustomerSilence
    from workflows.ticket_status import settle_status
    from workflows.ticket_steps import PolicySteps

#: Patch id: tickets that start on this code record this one marker for the five patches
#: `_take_earlier_patches` checks (all true); older histories replay the markers they
#: recorded one by one.
ONE_MARKER_FOR_EARLIER_PATCHES = "one-marker-for-earlier-patches"
#: Patch id: tickets that start on this code take every earlier patch (and MEASURES_OUTCOMES)
#: with this one marker, read each customer message in one local activity (with routing,
#: entering the policy and the CustomerKey when the turn needs them: `PolicyEntry.read`),
#: upsert a turn's search-attribute changes once, when the ticket waits, keep one silence
#: timer across turns and write the outcome row by a local activity. Older histories replay
#: their markers, local activities, upserts, timers and activities as they recorded them.
LEAN_TURNS = "lean-turns"


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, start: TicketStart) -> None:
        self._start = start
        self.mem = start.carried if start.carried is not None else TicketMemory()
        if start.customer.email:
            self.mem.known_slots.setdefault("email", start.customer.email)
        self.inbox = TicketInbox(self.mem)
        self.helpdesk = HelpdeskIO(start, self.mem)
        self.entry = PolicyEntry(start, self.mem)
        self.claims = ClaimFollowUp(start, self.mem, self.helpdesk)
        self.steps = PolicySteps(start, self.mem, self.helpdesk, self.entry, self.claims)
        self.measures = TicketMeasures(start, self.mem, self.helpdesk)
        # One index for every part of the ticket (batching under LEAN_TURNS).
        self.index = self.helpdesk.index
        self.entry.index = self.index
        self.customer_key = CustomerKeyIndex(start, self.mem, self.index)
        self.silence = CustomerSilence(self.mem, self.helpdesk, self.index)
        self.agents = AgentActions(self.mem, self.helpdesk, self.claims, self.index)
        self.conversation = Conversation(
            self.mem,
            helpdesk=self.helpdesk,
            entry=self.entry,
            steps=self.steps,
            claims=self.claims,
            measures=self.measures,
            customer_key=self.customer_key,
        )

    # -- the main loop ----------------------------------------------------------------

    @workflow.run
    async def run(self, start: TicketStart) -> TicketOutcome:
        mem = self.mem
        # Patches are decided here, in the run's first activation, never later: a patch
        # first checked after a local activity can fall in another workflow task on replay
        # (the activity's result marker moves the boundary), and replay then takes the
        # other branch.
        lean = workflow.patched(LEAN_TURNS)
        if lean:
            # A ticket that starts on this code takes every earlier patch: one marker (and
            # one TemporalChangeVersion upsert) instead of two (and seven before those).
            self._take_earlier_patches(lambda _: True)
            measures = True
        else:
            if workflow.patched(ONE_MARKER_FOR_EARLIER_PATCHES):
                self._take_earlier_patches(lambda _: True)
            else:
                self._take_earlier_patches(workflow.patched)
            measures = workflow.patched(MEASURES_OUTCOMES)
        self.measures.on = self.entry.assigns_variants = measures
        self.entry.reads_once = self.index.batches = self.measures.records_locally = lean
        self.silence.keeps_timer = lean
        if start.carried is None:
            mem.silent_since = workflow.now()
            mem.started_at = workflow.now()
            self._index_start()
        while True:
            if not self.entry.reads_once:
                await self.customer_key.index_customer()
            self.inbox.file_arrivals()
            if mem.inbox:
                await self._take(mem.inbox.pop(0))
                continue
            if self.entry.reads_once:
                # What no message's reading keyed (an email learned from a reply, a ticket
                # with agent actions only), then the turn's index changes: one upsert.
                await self.customer_key.index_customer()
                self.index.flush()
            if self.measures.wants_csat():  # an ending reached outside a customer turn
                await self.helpdesk.tell([self.measures.ask_csat()], key="csat-question")
            finished = mem.outcome is not None and not mem.csat_waiting
            if finished and not mem.outcome_recorded:
                # Awaited here, not after the loop: whatever arrives meanwhile is still
                # answered before the run ends.
                await self.measures.record()
                continue
            if finished or self._should_continue_as_new():
                # Only with an empty inbox and every handler returned; anything that
                # arrives meanwhile is handled first.
                await workflow.wait_condition(
                    lambda: self.inbox.pending() or workflow.all_handlers_finished()
                )
                if self.inbox.pending():
                    continue
                if finished:
                    break
                self.index.flush()
                workflow.continue_as_new(start.model_copy(update={"carried": mem}))
            await self.silence.wait(self.inbox.pending)
        settle_status(mem, self.index)
        self.index.flush()
        return TicketOutcome(
            ticket_id=workflow.info().workflow_id,
            status=mem.status,
            outcome=mem.outcome,
            outcome_recorded=self.measures.on,
        )

    def _take_earlier_patches(self, patched: Callable[[str], bool]) -> None:
        """The patches from before ONE_MARKER_FOR_EARLIER_PATCHES, each checked in this
        order on histories that recorded them one by one."""
        self.entry.takes_starts_policy = patched(FIRST_TURN_TAKES_STARTS_POLICY)
        self.entry.loads_starts_version = patched(POLICY_VERSION_FROM_START)
        self.customer_key.indexes = patched(CUSTOMER_KEY_PATCH)
        self.entry.asks_between_two = patched(ROUTING_ASKS_BETWEEN_TWO)
        self.entry.by_meaning = patched(REPLIES_BY_MEANING)

    def _index_start(self) -> None:
        """The API sets these when it starts a ticket; index only what a starter left out."""
        given = workflow.info().typed_search_attributes
        wanted = [
            sa.TICKET_STATUS.value_set(self.mem.status.value),
            sa.HELPDESK.value_set(self._start.helpdesk),
            sa.TICKET_TYPE.value_set(self._start.ticket_type or "unrouted"),
        ]
        missing = [update for update in wanted if given.get(update.key) is None]
        if missing:
            self.index.set(missing)

    async def _take(self, item: InboxItem) -> None:
        """One inbox item, handled in the mode the ticket is in."""
        mem = self.mem
        if isinstance(item, InboxMessage):
            replies = await self.conversation.on_message(item.message)
            settle_status(mem, self.index)
            # Last: the update caller reads the replies and the status they led to.
            mem.replies.setdefault(item.message.message_id, replies)
            return
        if isinstance(item, InboxAgentAction):
            await self.agents.on_action(item.action)
        elif isinstance(item, InboxClose):
            await self.agents.close()
        elif isinstance(item, InboxClaimUpdate) and self.claims.child_id() is not None:
            await self.claims.on_update(item.update, self.steps.advance)  # wakes the follow-up
        elif mem.held:
            mem.deferred.append(item)  # the policy carries on once the agent lets go
        elif isinstance(item, InboxClaimProgress):
            await self.claims.on_progress(item.progress, self.steps.advance)
        elif isinstance(item, InboxClaimUpdate):
            await self.claims.on_update(item.update, self.steps.advance)
        settle_status(mem, self.index)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        limit = self._start.history_limit
        return info.is_continue_as_new_suggested() or (
            limit is not None and info.get_current_history_length() > limit
        )

    # -- handlers: every one only files its item in the inbox ------------------------------

    @workflow.signal
    def customer_message(self, message: CustomerMessage) -> None:
        """Asynchronous delivery (webhooks); redelivery of a message id is ignored."""
        if message.message_id not in self.inbox.seen:
            self.inbox.accept(message, by_update=False)

    @workflow.update
    async def message(self, message: CustomerMessage) -> TurnResult:
        """Synchronous turn: returns the bot's replies to this message once it is handled."""
        duplicate = message.message_id in self.inbox.seen
        if not duplicate:
            self.inbox.accept(message, by_update=True)
        await workflow.wait_condition(lambda: message.message_id in self.mem.replies)
        return TurnResult(
            ticket_id=workflow.info().workflow_id,
            message_id=message.message_id,
            replies=self.mem.replies[message.message_id],
            status=self.mem.status,
            duplicate=duplicate,
            policy_id=self.mem.policy_id,
        )

    @message.validator
    def _validate_message(self, message: CustomerMessage) -> None:
        if not message.text.strip():
            raise ValueError("message text is empty")
        if len(message.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"message text is longer than {MAX_MESSAGE_CHARS} characters")

    @workflow.signal
    def agent_action(self, action: AgentAction) -> None:
        self.inbox.arrive(InboxAgentAction(action=action))

    @workflow.signal
    def claim_update(self, update: ClaimUpdate) -> None:
        """A carrier webhook (verified by the API): forwarded to the claim follow-up."""
        self.inbox.arrive(InboxClaimUpdate(update=update))

    @workflow.signal
    def claim_progress(self, progress: ClaimProgress) -> None:
        """From the claim follow-up: one check (and, when final, the carrier's decision)."""
        self.inbox.arrive(InboxClaimProgress(progress=progress))

    @workflow.signal
    def close(self) -> None:
        self.inbox.arrive(InboxClose())

    # -- queries ----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> TicketState:
        mem = self.mem
        plan = mem.current_plan()
        waiting = mem.waiting
        waiting_for: str | None = None
        if mem.outcome is None:
            if mem.held:
                waiting_for = "agent"
            elif mem.waiting_for_claim:
                waiting_for = "claim"
            elif not self.inbox.pending():
                waiting_for = f"customer:{waiting.slot}" if waiting and waiting.slot else "customer"
        context = mem.interpreter.context if mem.interpreter else {}
        slots = {
            node.var: context[node.var]
            for node in (plan.walk() if plan else [])
            if isinstance(node, AskNode | OfferNode) and node.var in context
        }
        return TicketState(
            ticket_id=workflow.info().workflow_id,
            helpdesk=self._start.helpdesk,
            external_id=self._start.external_id,
            status=mem.status,
            ticket_type=self._start.ticket_type
            or (plan.ticket_types[0] if plan and plan.ticket_types else None),
            policy_id=mem.policy_id,
            policy_version=plan.version if plan else None,
            variant=mem.variants.get(mem.policy_id or ""),
            waiting_for=waiting_for,
            slots=slots,
            outcome=str(mem.outcome) if mem.outcome else None,
            agent=mem.agent,
            messages_received=len(self.inbox.seen),
            trial=self._start.trial,
        )

    @workflow.query
    def answered(self, message_id: str) -> TurnResult | None:
        """The bot's replies to a message this run took in, None if it never saw it: how
        the API answers a message sent again after the ticket ended."""
        if message_id not in self.mem.replies:
            return None
        return TurnResult(
            ticket_id=workflow.info().workflow_id,
            message_id=message_id,
            replies=self.mem.replies[message_id],
            status=self.mem.status,
            duplicate=True,
            policy_id=self.mem.policy_id,
        )

    @workflow.query
    def snapshot(self) -> TicketMemory:
        """Everything the ticket knows: what continue-as-new carries."""
        return self.mem

    @workflow.query
    def transcript(self) -> list[TranscriptEntry]:
        return self.mem.transcript

    @workflow.query
    def trace(self) -> list[TraceRow]:
        return self.mem.trace
