"""TicketWorkflow: one support ticket, one durable conversation that runs its policy.

Everything that reaches a ticket (customer messages by signal or update, agent actions,
claim reports, close) goes into one ordered inbox that the main loop drains, one item at
a time; the state is one model (`TicketMemory`) that continue-as-new carries whole. An
update returns once *its* message has been handled, whatever else is in flight, and the
run ends or continues as new only with an empty inbox and no handler waiting.

The parts of the ticket live beside this file: routing and policy entry
(`ticket_routing`), running the plan (`ticket_steps`), claims (`ticket_claims`) and the
helpdesk (`ticket_helpdesk`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.message_reading import MessageRead
    from policies.plan import AskNode, OfferNode
    from workflows import search_attributes as sa
    from workflows.activity_options import LOCAL_RETRY, LOCAL_TIMEOUT
    from workflows.claim_models import ClaimProgress, parse_duration
    from workflows.interpreter import Reply, Started
    from workflows.ticket_claims import ClaimFollowUp
    from workflows.ticket_helpdesk import HelpdeskIO
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
        Outcome,
        TicketMemory,
        TicketOutcome,
        TicketStart,
        TicketState,
        TicketStatus,
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
    from workflows.ticket_status import set_status, settle_status
    from workflows.ticket_steps import PolicySteps

DEFAULT_REMINDER_AFTER = timedelta(hours=24)
CUSTOMER_KEY_PATCH = "customer-key"
#: Patch id: tickets that start on this code record this one marker for the five patches
#: above (all true); older histories replay the markers they recorded one by one.
ONE_MARKER_FOR_EARLIER_PATCHES = "one-marker-for-earlier-patches"
#: Patch id: tickets that start on this code take every patch above (and MEASURES_OUTCOMES)
#: with this one marker, read each customer message in one local activity (with routing,
#: entering the policy and the CustomerKey when the turn needs them: `PolicyEntry.read`),
#: upsert a turn's search-attribute changes once, when the ticket waits, keep one silence
#: timer across turns and write the outcome row by a local activity. Older histories replay
#: their markers, local activities, upserts, timers and activities as they recorded them.
LEAN_TURNS = "lean-turns"
DEFAULT_AUTO_CLOSE_AFTER = timedelta(hours=72)

REMINDER = "Just checking in: are you still there? Reply here and I'll pick up where we left off."
AUTO_CLOSE = (
    "I haven't heard back, so I'm closing this conversation for now. "
    "Write to us any time and we'll continue."
)
AFTER_THE_END = (
    "Thanks for your message. This conversation is already wrapped up, so I can't act on "
    "it here. Write to us again and I'll start a new conversation for your request."
)
TO_A_PERSON = "Of course. I'm passing you to a member of our team, who will reply here."
UNROUTED = "Thanks. I'm passing your message to a member of our team, who will help."


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, start: TicketStart) -> None:
        self._start = start
        self.mem = start.carried if start.carried is not None else TicketMemory()
        if start.customer.email:
            self.mem.known_slots.setdefault("email", start.customer.email)
        self._seen = set(self.mem.seen)
        # What this activation's handlers delivered, filed into the inbox by the main loop.
        self._arrivals: list[tuple[int, InboxItem]] = []
        self.helpdesk = HelpdeskIO(start, self.mem)
        self.entry = PolicyEntry(start, self.mem)
        self.claims = ClaimFollowUp(start, self.mem, self.helpdesk)
        self.steps = PolicySteps(start, self.mem, self.helpdesk, self.entry, self.claims)
        self.measures = TicketMeasures(start, self.mem, self.helpdesk)
        self._indexes_customer = False
        # The silence timer kept across turns (LEAN_TURNS): its task and when it fires.
        self._silence_timer: asyncio.Future[None] | None = None
        self._silence_timer_at: datetime | None = None
        # One index for every part of the ticket (batching under LEAN_TURNS).
        self.index = self.helpdesk.index
        self.entry.index = self.index

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
        if start.carried is None:
            mem.silent_since = workflow.now()
            mem.started_at = workflow.now()
            self._index_start()
        while True:
            if not self.entry.reads_once:
                await self._index_customer()
            self._file_arrivals()
            if mem.inbox:
                await self._take(mem.inbox.pop(0))
                continue
            if self.entry.reads_once:
                # What no message's reading keyed (an email learned from a reply, a ticket
                # with agent actions only), then the turn's index changes: one upsert.
                await self._index_customer()
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
                    lambda: self._pending() or workflow.all_handlers_finished()
                )
                if self._pending():
                    continue
                if finished:
                    break
                self.index.flush()
                workflow.continue_as_new(start.model_copy(update={"carried": mem}))
            await self._wait_for_inbox()
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
        self._indexes_customer = patched(CUSTOMER_KEY_PATCH)
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

    async def _index_customer(self) -> None:
        """Once the ticket knows the customer's email (from the start or from a reply), set
        CustomerKey, its keyed hash, so export and erasure find the ticket. The hash is
        computed by a local activity: the secret never enters workflow code."""
        email = self._unkeyed_email()
        if email is None:
            return
        try:
            key: str = await workflow.execute_local_activity(
                "customer_key",
                email,
                result_type=str,
                start_to_close_timeout=LOCAL_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("could not compute the CustomerKey; retrying later")
            return
        self._keyed(key)

    def _keyed(self, key: str) -> None:
        self.index.set([sa.CUSTOMER_KEY.value_set(key)])
        self.mem.customer_keyed = True
        self.mem.customer_key = key

    def _unkeyed_email(self) -> str | None:
        """The email to key, while the ticket has no CustomerKey (None in a run that
        started before CustomerKey existed)."""
        if self.mem.customer_keyed or not self._indexes_customer:
            return None
        return self._customer_email()

    def _customer_email(self) -> str | None:
        """The helpdesk's or web channel's customer email, else one the caller put in the
        context, else one the customer wrote in a message."""
        context = self._start.context
        nested = context.get("customer")
        for candidate in (
            self._start.customer.email,
            nested.get("email") if isinstance(nested, dict) else None,
            context.get("email"),
            self.mem.known_slots.get("email"),
        ):
            if isinstance(candidate, str) and "@" in candidate:
                return candidate.strip()
        return None

    async def _take(self, item: InboxItem) -> None:
        """One inbox item, handled in the mode the ticket is in."""
        mem = self.mem
        if isinstance(item, InboxMessage):
            replies = await self._on_message(item.message)
            settle_status(mem, self.index)
            # Last: the update caller reads the replies and the status they led to.
            mem.replies.setdefault(item.message.message_id, replies)
            return
        if isinstance(item, InboxAgentAction):
            await self._on_agent(item.action)
        elif isinstance(item, InboxClose):
            await self._close()
        elif isinstance(item, InboxClaimUpdate) and self.claims.child_id() is not None:
            await self.claims.on_update(item.update, self.steps.advance)  # wakes the follow-up
        elif mem.held:
            mem.deferred.append(item)  # the policy carries on once the agent lets go
        elif isinstance(item, InboxClaimProgress):
            await self.claims.on_progress(item.progress, self.steps.advance)
        elif isinstance(item, InboxClaimUpdate):
            await self.claims.on_update(item.update, self.steps.advance)
        settle_status(mem, self.index)

    # -- silence ------------------------------------------------------------------------

    async def _wait_for_inbox(self) -> None:
        """Wait for the next item; while the bot waits for the customer, remind once after
        silence, then close the ticket (a ticket nobody ever wrote to closes quietly)."""
        if self.entry.reads_once:
            await self._wait_keeping_the_timer()
            return
        due = self._silence_due()
        timeout = None if due is None else max(due - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(self._pending, timeout=timeout)
        except TimeoutError:
            await self._on_silence()

    async def _wait_keeping_the_timer(self) -> None:
        """The same waits on one timer across turns: a timer per wait is started and then
        cancelled by the next message (two history events a turn). A running timer that
        fires no later than the silence is due is kept; when it fires before (the customer
        spoke since) the next wait starts one for what is left. Only an earlier due time
        (the CSAT question's hour, say) replaces it."""
        if self.mem.silent_since is None:
            self.mem.silent_since = workflow.now()  # a state carried from an older run
        due = self._silence_due()
        timer_at = self._silence_timer_at
        if due is not None and (self._silence_timer is None or (timer_at and timer_at > due)):
            if self._silence_timer is not None:
                self._silence_timer.cancel()
            left = max(due - workflow.now(), timedelta(seconds=1))
            self._silence_timer = asyncio.ensure_future(workflow.sleep(left))
            self._silence_timer_at = workflow.now() + left
        timer = self._silence_timer
        await workflow.wait_condition(lambda: self._pending() or bool(timer and timer.done()))
        if timer is None or not timer.done():
            return
        self._silence_timer = self._silence_timer_at = None
        due = self._silence_due()
        if not self._pending() and due is not None and workflow.now() >= due:
            await self._on_silence()

    def _silence_due(self) -> datetime | None:
        mem = self.mem
        if mem.csat_waiting and mem.csat_until is not None:
            return mem.csat_until
        if mem.held or mem.waiting_for_claim:
            return None  # an agent or the carrier has the next word
        plan = mem.current_plan()
        settings = plan.settings if plan else {}
        since = mem.silent_since or workflow.now()
        if bool(mem.seen) and not mem.reminded:
            return since + parse_duration(settings.get("reminder_after"), DEFAULT_REMINDER_AFTER)
        return since + parse_duration(settings.get("auto_close_after"), DEFAULT_AUTO_CLOSE_AFTER)

    async def _on_silence(self) -> None:
        mem = self.mem
        if mem.csat_waiting:
            mem.csat_waiting = False  # no rating: the ticket ends as it was
            return
        if bool(mem.seen) and not mem.reminded:
            mem.reminded = True
            mem.reminders_sent += 1
            await self.helpdesk.tell([REMINDER], key=f"reminder-{mem.reminders_sent}", nudge=True)
            return
        if bool(mem.seen):
            await self.helpdesk.tell([AUTO_CLOSE], key=f"auto-close-{len(mem.seen)}")
        mem.outcome = Outcome.ABANDONED
        settle_status(mem, self.index)

    # -- what each item does --------------------------------------------------------------

    async def _on_message(self, message: CustomerMessage) -> list[str]:
        mem = self.mem
        mem.silent_since = workflow.now()
        mem.reminded = False
        if mem.csat_waiting:
            rated = await self.measures.answer(message.text, message.message_id)
            if rated is not None:
                return rated
        if mem.outcome is not None:
            # It came after the ending: answered, never left waiting.
            await self.helpdesk.tell([AFTER_THE_END], key=f"msg-{message.message_id}")
            return [AFTER_THE_END]
        if mem.held:
            return []  # recorded in the transcript for the agent; the bot stays silent
        if mem.waiting_for_claim:
            return await self.claims.answer(message)
        return await self._converse(message)

    async def _converse(self, message: CustomerMessage) -> list[str]:
        mem = self.mem
        plan_done = mem.interpreter is not None and mem.interpreter.finished
        routes = mem.policy_id is None or plan_done
        read: MessageRead | None = None
        if self.entry.reads_once:
            email = self._unkeyed_email()
            read = await self.entry.read(
                message, expecting=not plan_done, routes=routes, email=email
            )
            if read.customer_key is not None:
                self._keyed(read.customer_key)
            reply = read.reply
        else:
            reply = await self.entry.understand(message, expecting=not plan_done)
        if reply.intent == "human":
            await self.helpdesk.tell([TO_A_PERSON], key=f"msg-{message.message_id}")
            await self.helpdesk.hand_off(
                reason="customer asked for a person", note="The customer asked for a person."
            )
            return [TO_A_PERSON]
        if routes:
            replies = await self._route(message, reply, read)
        else:
            self.entry.prefill(reply)
            replies = await self.steps.advance(reply)
        if self.measures.wants_csat():
            replies = [*replies, self.measures.ask_csat()]
        await self.helpdesk.tell(replies, key=f"msg-{message.message_id}")
        return replies

    async def _route(
        self, message: CustomerMessage, understood: Reply, read: MessageRead | None
    ) -> list[str]:
        answering = bool(self.mem.routing_choices)
        route = self.entry.routed(read) if read is not None else await self.entry.route(message)
        question = self.entry.choice_question(route)
        if question is not None:
            # What the opening already says (an order number) waits for the policy chosen.
            self.entry.prefill(understood)
            workflow.set_current_details("Waiting for the customer to say which request it is.")
            return [question]
        if route.policy_id is None:
            if self.mem.routing_attempts >= 2 and not answering:
                await self.helpdesk.hand_off(
                    reason="no policy matched",
                    note="The customer's request did not match any policy after a "
                    "clarifying question.",
                )
                return [UNROUTED]
            menu = "\n".join(f"{i}. {item.title}" for i, item in enumerate(route.menu, 1))
            workflow.set_current_details("Waiting for the customer to say what they need.")
            return [f"I can help with these:\n{menu}\nWhich one is it? Reply with a number."]
        await self.entry.enter(route.policy_id)
        # The first message often already says what the policy will ask for.
        self.entry.prefill(understood)
        return await self.steps.advance(Started())

    async def _on_agent(self, action: AgentAction) -> None:
        mem = self.mem
        now = workflow.now()
        if action.action == "takeover":
            mem.agent = action.agent or "agent"
            mem.agent_took_over = True
            set_status(mem, TicketStatus.ESCALATED, self.index)
        elif action.action == "release":
            if not mem.held:
                text = "An agent's release arrived while the bot had the ticket; nothing to do."
                mem.transcript.append(TranscriptEntry(role="system", text=text, at=now))
                return
            # Back to the bot: it resumes where the plan waits, or routes anew.
            mem.agent = None
            mem.escalated = False
            mem.silent_since = now
            mem.reminded = False
            mem.inbox[0:0] = mem.deferred
            mem.deferred = []
        elif action.action == "resolve":
            if mem.waiting_for_claim:
                await self.claims.stop()
            hint = mem.interpreter.outcome_hint if mem.interpreter else None
            mem.outcome = hint or (Outcome.ESCALATED if mem.held else Outcome.RESOLVED)
        elif action.action == "note" and action.text:
            mem.transcript.append(TranscriptEntry(role="agent", text=action.text, at=now))
        elif action.action == "reply" and action.text:
            # A person answering takes the ticket: the bot stays silent until released.
            if not mem.held:
                mem.agent = action.agent or "agent"
                mem.agent_took_over = True
                set_status(mem, TicketStatus.ESCALATED, self.index)
            mem.agent_replies += 1
            await self.helpdesk.agent_reply(action.text, key=str(mem.agent_replies))

    async def _close(self) -> None:
        """Closed from outside (an operator, the helpdesk): ends whatever it waits for."""
        mem = self.mem
        mem.csat_waiting = False  # a rating that never came
        if mem.outcome is not None:
            return
        if mem.waiting_for_claim:
            await self.claims.stop()
        hint = mem.interpreter.outcome_hint if mem.interpreter else None
        mem.outcome = Outcome.ESCALATED if mem.held else (hint or Outcome.RESOLVED)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        limit = self._start.history_limit
        return info.is_continue_as_new_suggested() or (
            limit is not None and info.get_current_history_length() > limit
        )

    # -- handlers: every one only files its item in the inbox ------------------------------

    def _arrive(self, item: InboxItem, *, by_update: bool = False) -> None:
        self._arrivals.append((1 if by_update else 0, item))

    def _pending(self) -> bool:
        return bool(self._arrivals) or bool(self.mem.inbox)

    def _file_arrivals(self) -> None:
        """Into the inbox, in an order replay reproduces: within one workflow task, signals
        before updates (the order of the two kinds of job inside one activation is not
        part of the history), each kind in the order it came."""
        arrivals, self._arrivals = self._arrivals, []
        for _, item in sorted(arrivals, key=lambda arrival: arrival[0]):
            if isinstance(item, InboxMessage):
                message = item.message
                self.mem.seen.append(message.message_id)
                self.mem.transcript.append(
                    TranscriptEntry(
                        role="customer",
                        text=message.text,
                        at=message.sent_at or workflow.now(),
                        message_id=message.message_id,
                    )
                )
            self.mem.inbox.append(item)

    def _accept(self, message: CustomerMessage, *, by_update: bool) -> None:
        self._seen.add(message.message_id)
        self._arrive(InboxMessage(message=message), by_update=by_update)

    @workflow.signal
    def customer_message(self, message: CustomerMessage) -> None:
        """Asynchronous delivery (webhooks); redelivery of a message id is ignored."""
        if message.message_id not in self._seen:
            self._accept(message, by_update=False)

    @workflow.update
    async def message(self, message: CustomerMessage) -> TurnResult:
        """Synchronous turn: returns the bot's replies to this message once it is handled."""
        duplicate = message.message_id in self._seen
        if not duplicate:
            self._accept(message, by_update=True)
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
        self._arrive(InboxAgentAction(action=action))

    @workflow.signal
    def claim_update(self, update: ClaimUpdate) -> None:
        """A carrier webhook (verified by the API): forwarded to the claim follow-up."""
        self._arrive(InboxClaimUpdate(update=update))

    @workflow.signal
    def claim_progress(self, progress: ClaimProgress) -> None:
        """From the claim follow-up: one check (and, when final, the carrier's decision)."""
        self._arrive(InboxClaimProgress(progress=progress))

    @workflow.signal
    def close(self) -> None:
        self._arrive(InboxClose())

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
            elif not self._pending():
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
            messages_received=len(self._seen),
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
