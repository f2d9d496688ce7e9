"""Which policy a ticket runs, and entering it: routing, the pinned plan, the context the
plan starts with, and what the customer already told us.

A ticket's start usually names its first policy already (the API routed the opening
message with the same library), so the first turn only loads that plan; the workflow
routes itself when the start names none, and whenever a finished policy leaves the next
message to route.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.message_reading import READ_MESSAGE, MessageRead, ReadMessageRequest
    from activities.policy_store import (
        POLICY_NOT_FOUND,
        EnterPolicyRequest,
        LoadPolicyRequest,
        PolicyEntered,
        RouteRequest,
        RouteResult,
    )
    from activities.understanding import EARLIER_CHOICE, ChoiceOption, UnderstandRequest
    from policies.plan import AskNode, OfferNode, Plan
    from workflows import search_attributes as sa
    from workflows.activity_options import LOCAL_RETRY, LOCAL_TIMEOUT
    from workflows.interpreter import Reply, node_at, start_state
    from workflows.ticket_models import CustomerMessage, TicketMemory, TicketStart
    from workflows.ticket_status import SearchIndex

#: Patch id: tickets that start on this code take the start's policy on the first turn
#: instead of routing again (the `route_ticket` local activity); older histories replay
#: the routing they recorded.
FIRST_TURN_TAKES_STARTS_POLICY = "first-turn-takes-starts-policy"
#: Patch id: tickets that start on this code ask the customer which of two close policies
#: they mean (routing by meaning found two) and route by the answer; older histories
#: showed the menu instead.
ROUTING_ASKS_BETWEEN_TWO = "routing-asks-between-two"

#: Patch id: tickets that start on this code let a correction ("sorry, I meant 5002")
#: replace the fact it corrects, and answer a choice ask from what earlier messages said
#: ("it arrived damaged" → the "what went wrong?" choice), one `understand_reply` per choice
#: ask on entering a policy; older histories replay without either.
REPLIES_BY_MEANING = "replies-by-meaning"

#: Patch id: tickets that start on this code load the start's policy at the version the
#: start names (the one published when the API took the ticket, from the policy store);
#: older histories replay the plan their `load_policy` marker recorded.
POLICY_VERSION_FROM_START = "policy-version-from-start"


class PolicyEntry:
    def __init__(self, start: TicketStart, mem: TicketMemory) -> None:
        self.start = start
        self.mem = mem
        # Set by the workflow from `workflow.patched(FIRST_TURN_TAKES_STARTS_POLICY)` at
        # the start of each run.
        self.takes_starts_policy = False
        # Set from `workflow.patched(ROUTING_ASKS_BETWEEN_TWO)` at the start of each run.
        self.asks_between_two = False
        # Set by the workflow from `workflow.patched(REPLIES_BY_MEANING)`.
        self.by_meaning = False
        # Set from `workflow.patched(POLICY_VERSION_FROM_START)` at the start of each run.
        self.loads_starts_version = False
        # Set from `workflow.patched(MEASURES_OUTCOMES)`: entering a policy takes the
        # variant of a running experiment (`enter_policy`).
        self.assigns_variants = False
        # Set from `workflow.patched(LEAN_TURNS)`: a message is read, and routed and its
        # policy entered when the ticket routes it, in one local activity (`read`).
        self.reads_once = False
        # The ticket's search attributes (the workflow's, batching under LEAN_TURNS).
        self.index = SearchIndex()

    async def route(self, message: CustomerMessage) -> RouteResult:
        """The policy for this message; the start's ticket type or policy only at first."""
        mem = self.mem
        mem.routing_attempts += 1
        first = mem.routing_attempts == 1
        if first and self.start.policy_id and self.takes_starts_policy:
            version = self.start.policy_version if self.loads_starts_version else None
            plan = await self._known_plan(self.start.policy_id, version)
            if plan is not None:
                if self.asks_between_two and self.start.later_policy_id:
                    mem.later_policy_id = self.start.later_policy_id
                    mem.later_about = self.start.later_about
                return RouteResult(policy_id=plan.id, how="policy_id")
            # Not in this worker's library (a deploy in between): route as if none was named.
        choices = mem.routing_choices if self.asks_between_two else []
        mem.routing_choices = []
        route: RouteResult = await workflow.execute_local_activity(
            "route_ticket",
            RouteRequest(
                ticket_type=self.start.ticket_type if first else None,
                policy_id=self.start.policy_id if first else None,
                text=message.text,
                helpdesk=self.start.helpdesk,
                choices=choices,
            ),
            result_type=RouteResult,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        if route.later and self.asks_between_two:
            mem.later_policy_id = route.later
            mem.later_about = route.later_about
        return route

    def choice_question(self, route: RouteResult) -> str | None:
        """When routing found two close policies: remember them and ask the customer which
        one it is, in their words; None when the ticket does not ask (an older run)."""
        if not self.asks_between_two or route.how != "ambiguous" or len(route.candidates) != 2:
            return None
        first, second = route.candidates
        self.mem.routing_choices = [first.policy_id, second.policy_id]
        return (
            f"Just to be sure I help with the right thing: is this about "
            f"{first.about or first.title} (1), or {second.about or second.title} (2)?"
        )

    async def _known_plan(self, policy_id: str, version: str | None = None) -> Plan | None:
        """The plan `policy_id` names (at `version` when given), pinned like `enter` pins
        it; None if the library has no such policy."""
        try:
            plan = await self._load(policy_id, version)
        except ApplicationError as err:  # a failed local activity raises its own error
            if err.type == POLICY_NOT_FOUND:
                return None
            raise
        self.mem.plans[plan.id] = plan
        return plan

    async def _load(self, policy_id: str, version: str | None = None) -> Plan:
        # Local: the worker holds the library; the plan still lands in history (a marker),
        # so the ticket stays pinned to it, without an extra task round trip.
        if self.assigns_variants and not self.start.trial:
            entered: PolicyEntered = await workflow.execute_local_activity(
                "enter_policy",
                EnterPolicyRequest(
                    policy_id=policy_id,
                    version=version,
                    unit=self.mem.customer_key or workflow.info().workflow_id,
                ),
                result_type=PolicyEntered,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LOCAL_RETRY,
            )
            if entered.assignment.experiment_id is not None:
                self.mem.assignments.setdefault(entered.plan.id, entered.assignment)
            return entered.plan
        plan: Plan = await workflow.execute_local_activity(
            "load_policy",
            LoadPolicyRequest(policy_id=policy_id, version=version),
            result_type=Plan,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOCAL_RETRY,
        )
        return plan

    async def enter(self, policy_id: str) -> None:
        """Start running `policy_id`: its plan is pinned in history, its side effects keyed
        by this entry (a policy entered again after a release acts again)."""
        mem = self.mem
        plan = mem.plans.get(policy_id)
        if plan is None:
            plan = await self._load(policy_id)
            mem.plans[policy_id] = plan
        context = dict(mem.interpreter.context) if mem.interpreter else {}
        if not context:
            context = self._initial_context()
        if mem.policy_id is not None:
            mem.entry += 1
        mem.policy_id = policy_id
        mem.interpreter = start_state(plan, context)
        attributes = [
            sa.POLICY_ID.value_set(plan.id),
            sa.POLICY_VERSION.value_set(plan.version),
        ]
        self.prefill()
        if not self.start.ticket_type and plan.ticket_types:
            attributes.append(sa.TICKET_TYPE.value_set(plan.ticket_types[0]))
        assignment = mem.assignments.get(plan.id)
        if assignment is not None and assignment.variant is not None:
            # An experiment's variant (a version of its own), assigned per customer.
            mem.variants.setdefault(policy_id, assignment.variant)
        elif plan.variants and policy_id not in mem.variants:
            # A/B variants: drawn once per ticket and policy, deterministically on replay.
            mem.variants[policy_id] = workflow.random().choice(plan.variants).name
        if policy_id in mem.variants:
            attributes.append(sa.VARIANT.value_set(mem.variants[policy_id]))
            mem.interpreter.context.setdefault("variant", mem.variants[policy_id])
        self.index.set(attributes)
        workflow.logger.info(
            "policy entered",
            extra={"policy_id": plan.id, "policy_version": plan.version, "entry": mem.entry},
        )
        # Routed or handed over to: a choice the customer already answered is not asked.
        await self.answer_choices_from_earlier()

    def _initial_context(self) -> dict[str, Any]:
        """`$ticket`, `$customer` and `$message` always exist; the caller's context joins."""
        context: dict[str, Any] = dict(self.start.context)
        customer = self.start.customer.model_dump(exclude_none=True)
        context["customer"] = {**customer, **context.get("customer", {})}
        context.setdefault(
            "ticket",
            {
                "helpdesk": self.start.helpdesk,
                "id": self.start.external_id,
                "type": self.start.ticket_type,
            },
        )
        first = next((e.text for e in self.mem.transcript if e.role == "customer"), "")
        context.setdefault("message", first)
        return context

    async def understand(self, message: CustomerMessage, *, expecting: bool) -> Reply:
        """The customer's words as the plan's waiting step reads them."""
        reply: Reply = await workflow.execute_local_activity(
            "understand_reply",
            self._understand_request(message, expecting=expecting),
            result_type=Reply,
            start_to_close_timeout=LOCAL_TIMEOUT,
            retry_policy=LOCAL_RETRY,
        )
        return reply

    def _understand_request(
        self, message: CustomerMessage, *, expecting: bool
    ) -> UnderstandRequest:
        ask_slot: str | None = None
        options: list[ChoiceOption] = []
        waiting = self.mem.waiting
        plan = self.mem.current_plan()
        if expecting and waiting and plan and waiting.kind == "reply":
            ask_slot = waiting.slot
            node = node_at(plan, waiting.node)
            if isinstance(node, OfferNode):
                options = [
                    ChoiceOption(id=o.id, label=o.label, description=o.description)
                    for o in node.options
                ]
            elif isinstance(node, AskNode) and node.options:
                options = [ChoiceOption(id=o, label=o) for o in node.options]
        return UnderstandRequest(text=message.text, expecting=ask_slot, options=options)

    async def read(
        self, message: CustomerMessage, *, expecting: bool, routes: bool, email: str | None
    ) -> MessageRead:
        """`understand`, the CustomerKey of `email` (when given) and, when the ticket
        routes this message, what `route` and `enter` would load, in one local activity:
        the same requests, so the same answers. `routed` then takes the route."""
        mem = self.mem
        request = ReadMessageRequest(
            understand=self._understand_request(message, expecting=expecting), email=email
        )
        if routes:
            first = mem.routing_attempts == 0
            if first and self.start.policy_id and self.takes_starts_policy:
                version = self.start.policy_version if self.loads_starts_version else None
                request.named = LoadPolicyRequest(policy_id=self.start.policy_id, version=version)
            request.route = RouteRequest(
                ticket_type=self.start.ticket_type if first else None,
                policy_id=self.start.policy_id if first else None,
                text=message.text,
                helpdesk=self.start.helpdesk,
                choices=mem.routing_choices if self.asks_between_two else [],
            )
            request.pinned = sorted(mem.plans)
            if self.assigns_variants and not self.start.trial:
                request.unit = mem.customer_key or workflow.info().workflow_id
        read: MessageRead = await workflow.execute_local_activity(
            READ_MESSAGE,
            request,
            result_type=MessageRead,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOCAL_RETRY,
        )
        return read

    def routed(self, read: MessageRead) -> RouteResult:
        """The route `read` found, taken as `route` takes the one it asks for: the plan it
        loaded pinned, a second request remembered."""
        mem = self.mem
        route = read.route
        assert route is not None, "read without routing"
        mem.routing_attempts += 1
        entered = read.entered
        if entered is not None and entered.assignment.experiment_id is not None:
            mem.assignments.setdefault(entered.plan.id, entered.assignment)
        if read.named:
            assert entered is not None
            mem.plans[entered.plan.id] = entered.plan
            if self.asks_between_two and self.start.later_policy_id:
                mem.later_policy_id = self.start.later_policy_id
                mem.later_about = self.start.later_about
            return route
        mem.routing_choices = []
        if entered is not None and route.policy_id is not None:
            mem.plans[route.policy_id] = entered.plan
        if route.later and self.asks_between_two:
            mem.later_policy_id = route.later
            mem.later_about = route.later_about
        return route

    def prefill(self, reply: Reply | None = None) -> None:
        """Bind what the customer already told us (in any message, to any policy) to every
        data slot the current plan would ask for: the bot never asks twice. A correction
        replaces the value it corrects, in what the plan will use next too."""
        mem = self.mem
        corrected: set[str] = set()
        if reply is not None:
            mem.known_slots.update(reply.slots)
            if self.by_meaning:
                corrected = {slot for slot in reply.corrects if slot in reply.slots}
        plan = mem.current_plan()
        if plan is None or mem.interpreter is None:
            return
        context = mem.interpreter.context
        for node in plan.walk():
            if isinstance(node, AskNode) and node.skip_if_known:
                if node.slot in corrected:
                    context[node.var] = mem.known_slots[node.slot]
                elif node.slot in mem.known_slots:
                    context.setdefault(node.var, mem.known_slots[node.slot])

    async def answer_choices_from_earlier(self) -> None:
        """A choice ask whose answer the customer already gave ("my package arrived
        damaged" before "what went wrong? 1. Lost 2. Damaged 3. Wrong item") is answered
        from their earlier messages, read against its options, and then not asked."""
        mem = self.mem
        plan = mem.current_plan()
        state = mem.interpreter
        if not self.by_meaning or plan is None or state is None:
            return
        said = " ".join(e.text for e in mem.transcript if e.role == "customer")
        for node in plan.walk():
            if not (isinstance(node, AskNode) and node.slot == "choice" and node.options):
                continue
            if node.var in state.context or not said:
                continue
            reply: Reply = await workflow.execute_local_activity(
                "understand_reply",
                UnderstandRequest(
                    text=said,
                    expecting=EARLIER_CHOICE,
                    options=[ChoiceOption(id=o, label=o) for o in node.options],
                ),
                result_type=Reply,
                start_to_close_timeout=LOCAL_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            if reply.choice is not None:
                state.context[node.var] = reply.choice
                state.answered.append(node.var)
