"""One local activity per customer message: reading it, and, when the ticket routes it,
routing and entering the policy, with the CustomerKey when the ticket has none yet.

Each local activity is one more activation and one more marker, with encrypted payloads,
in a turn; a ticket's opening turns used to run three or four (`customer_key`,
`understand_reply`, `route_ticket`, `enter_policy`) where hand-written code runs one. This
does the same work, in the same order and with the same rules, in one. Nothing here writes:
routing and an experiment's assignment are reads, so a reading the workflow does not use
(the customer asked for a person) has changed nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.customer_key import CustomerKeys
from activities.policy_store import (
    POLICY_NOT_FOUND,
    EnterPolicyRequest,
    LoadPolicyRequest,
    PolicyActivities,
    PolicyEntered,
    RouteRequest,
    RouteResult,
)
from activities.understanding import UnderstandingActivities, UnderstandRequest
from policies.replies import Reply

#: The activity's name, as the workflow calls it.
READ_MESSAGE = "read_message"


class ReadMessageRequest(BaseModel):
    understand: UnderstandRequest
    email: str | None = Field(
        default=None, description="the customer's email when the ticket has no CustomerKey yet"
    )
    route: RouteRequest | None = Field(
        default=None, description="the ticket routes this message (no policy, or it ended)"
    )
    named: LoadPolicyRequest | None = Field(
        default=None,
        description="the start's policy (and version) on the first routing: entered "
        "instead of routing when this worker has it",
    )
    pinned: list[str] = Field(
        default_factory=list, description="policies whose plan the ticket holds: not loaded"
    )
    unit: str | None = Field(
        default=None,
        description="who a running experiment assigns (the CustomerKey, else the ticket id; "
        "a key made here replaces it); None: outside experiments (a test chat, older runs)",
    )


class MessageRead(BaseModel):
    reply: Reply
    customer_key: str | None = Field(default=None, description="the key of `email`, if asked")
    route: RouteResult | None = None
    named: bool = Field(default=False, description="the route is the start's policy")
    entered: PolicyEntered | None = Field(
        default=None, description="the routed policy's plan, unless the ticket holds it"
    )


class MessageReading:
    """`understand_reply`, `customer_key`, `route_ticket` and `enter_policy` (or
    `load_policy`) as one local activity."""

    def __init__(
        self,
        understanding: UnderstandingActivities,
        policies: PolicyActivities,
        keys: CustomerKeys,
    ) -> None:
        self.understanding = understanding
        self.policies = policies
        self.keys = keys

    @activity.defn(name=READ_MESSAGE)
    async def read_message(self, request: ReadMessageRequest) -> MessageRead:
        reply = await self.understanding.understand_reply(request.understand)
        key = self.keys.key(request.email) if request.email else None  # a pure HMAC
        read = MessageRead(reply=reply, customer_key=key)
        if request.route is None:
            return read
        unit = request.unit
        if unit is not None and read.customer_key is not None:
            unit = read.customer_key  # what the ticket will use from now on
        if request.named is not None:
            entered = await self._enter(request.named, unit, missing_ok=True)
            if entered is not None:
                read.route = RouteResult(policy_id=entered.plan.id, how="policy_id")
                read.named = True
                read.entered = entered
                return read
            # Not in this worker's library (a deploy in between): routed as if none was named.
        read.route = await self.policies.route_ticket(request.route)
        policy_id = read.route.policy_id
        if policy_id is not None and policy_id not in request.pinned:
            read.entered = await self._enter(LoadPolicyRequest(policy_id=policy_id), unit)
        return read

    async def _enter(
        self, load: LoadPolicyRequest, unit: str | None, *, missing_ok: bool = False
    ) -> PolicyEntered | None:
        try:
            if unit is None:
                return PolicyEntered(plan=await self.policies.load_policy(load))
            enter = EnterPolicyRequest(policy_id=load.policy_id, version=load.version, unit=unit)
            return await self.policies.enter_policy(enter)
        except ApplicationError as err:
            if missing_ok and err.type == POLICY_NOT_FOUND:
                return None
            raise
