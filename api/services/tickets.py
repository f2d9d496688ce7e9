"""Starting, routing and messaging tickets: what the ticket routes and the webhook receiver
share, so a message from any channel reaches its ticket the same way.

A ticket id is its workflow id. Temporal's errors come back as `HTTPException`s with the
status a caller can act on (404 unknown, 409 ended, 422 refused, 503 Temporal or the worker
unreachable); `api/problems.py` renders them as problem+json.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.metrics import TURN_SECONDS
from activities.policy_store import PolicyActivities, RouteRequest
from api.log_context import bind_ticket, log
from policies.library import PolicyLibrary
from policies.platforms import PLATFORM_TITLES, platform_key
from ticketflow.settings import Settings
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    AgentAction,
    ClaimUpdate,
    CustomerMessage,
    TicketStart,
    TicketState,
    TicketStatus,
    TraceRow,
    TranscriptEntry,
    TurnResult,
    parse_ticket_workflow_id,
)

QUERY_TIMEOUT = timedelta(seconds=10)
#: A message racing the end of its ticket is sent again, to the next run, this many times.
UPDATE_ATTEMPTS = 3


class TicketView(BaseModel):
    ticket_id: str
    state: TicketState
    outcome: str | None = Field(description="how the ticket ended (None while it runs)")
    transcript: list[TranscriptEntry]
    trace: list[TraceRow] = Field(description="each plan step's fate, in order")


class TicketSummary(BaseModel):
    ticket_id: str
    run_status: str = Field(description="Temporal execution status: RUNNING, COMPLETED, …")
    status: str | None = None
    helpdesk: str | None = None
    ticket_type: str | None = None
    policy_id: str | None = None
    policy_version: str | None = None
    outcome: str | None = None
    started_at: datetime
    closed_at: datetime | None = None

    @classmethod
    def of(cls, execution: WorkflowExecution) -> TicketSummary:
        attrs = execution.typed_search_attributes
        return cls(
            ticket_id=execution.id,
            run_status=execution.status.name if execution.status else "UNKNOWN",
            status=attrs.get(sa.TICKET_STATUS),
            helpdesk=attrs.get(sa.HELPDESK),
            ticket_type=attrs.get(sa.TICKET_TYPE),
            policy_id=attrs.get(sa.POLICY_ID),
            policy_version=attrs.get(sa.POLICY_VERSION),
            outcome=attrs.get(sa.OUTCOME),
            started_at=execution.start_time,
            closed_at=execution.close_time,
        )


class RoutedStart(BaseModel):
    """A ticket's start input with the API's routing decision in it (the workflow runs that
    policy on its first turn instead of routing again), and the UI summary that goes with it."""

    start: TicketStart
    summary: str


def unknown_ticket(ticket_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"unknown ticket {ticket_id!r}")


def _aborted_by_close(err: RPCError) -> bool:
    """The server's answer to an update admitted while the workflow was completing."""
    return err.status == RPCStatusCode.NOT_FOUND and "aborted by closing" in err.message


def _unreachable(err: RPCError) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"could not reach Temporal ({err.status.name if err.status else 'error'}); send it again",
    )


class TicketService:
    """One Temporal client, the task queue, and the policy library: a fixed one, or a
    callable giving the published set at this moment (the API's, which follows the store)."""

    def __init__(
        self,
        client: Client,
        settings: Settings,
        library: PolicyLibrary | Callable[[], PolicyLibrary],
    ) -> None:
        self.client = client
        self.settings = settings
        self._library = library
        self._policies: PolicyActivities | None = None

    @property
    def policies(self) -> PolicyActivities:
        """Routing over the library as published now; kept while that set stands, so the
        router embeds its phrases once per publish, not once per request."""
        library = self._library if isinstance(self._library, PolicyLibrary) else self._library()
        if self._policies is None or self._policies.library is not library:
            self._policies = PolicyActivities(library)
        return self._policies

    # -- routing ---------------------------------------------------------------------------

    def route(self, start: TicketStart, text: str) -> RoutedStart:
        """Pick the policy from the opening message, with the routing the workflow would
        do, and say without PII what the ticket is: "Cancel order — BigCommerce/Kustomer"
        in the Temporal UI's summary column. Unrouted, the workflow routes (or asks)."""
        if start.trial and start.policy_id:  # a test chat runs the policy and version given
            return RoutedStart(start=start, summary=f"Test chat — {start.policy_id}")
        policies = self.policies
        route = policies.route(
            RouteRequest(
                text=text,
                helpdesk=start.helpdesk,
                ticket_type=start.ticket_type,
                policy_id=start.policy_id,
            )
        )
        if route.policy_id is None:
            helpdesk = PLATFORM_TITLES.get(start.helpdesk, start.helpdesk)
            return RoutedStart(start=start, summary=f"{helpdesk} ticket — not routed yet")
        plan = policies.library.get(route.policy_id)
        kind = plan.ticket_types[0] if plan.ticket_types else plan.title
        platforms = "/".join(PLATFORM_TITLES.get(platform_key(p), p) for p in plan.platforms)
        # The version too: the worker loads exactly the one published now.
        update: dict[str, Any] = {"policy_id": plan.id, "policy_version": plan.version}
        if route.later:
            update |= {"later_policy_id": route.later, "later_about": route.later_about}
        return RoutedStart(start=start.model_copy(update=update), summary=f"{kind} — {platforms}")

    def _start_options(self, ticket_id: str, routed: RoutedStart) -> dict[str, Any]:
        start = routed.start
        return {
            "id": ticket_id,
            "task_queue": self.settings.task_queue,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "search_attributes": TypedSearchAttributes(
                [
                    SearchAttributePair(sa.TICKET_STATUS, TicketStatus.OPEN.value),
                    SearchAttributePair(sa.HELPDESK, start.helpdesk),
                    SearchAttributePair(sa.TICKET_TYPE, start.ticket_type or "unrouted"),
                ]
            ),
            "static_summary": routed.summary,
        }

    # -- messages ----------------------------------------------------------------------------

    async def signal_with_start(
        self, ticket_id: str, start: TicketStart, message: CustomerMessage
    ) -> None:
        """Deliver a message without waiting for the bot: start the ticket if it is new
        (routed here), else `start` is ignored. 503 if Temporal does not take it."""
        routed = self.route(start, message.text)
        bind_ticket(ticket_id)
        try:
            handle = await self.client.start_workflow(
                TicketWorkflow.run,
                routed.start,
                start_signal="customer_message",
                start_signal_args=[message],
                **self._start_options(ticket_id, routed),
            )
        except RPCError as err:
            raise _unreachable(err) from err
        bind_ticket(ticket_id, run_id=handle.run_id or handle.result_run_id)
        log.info("customer message delivered", extra={"message_id": message.message_id})

    async def update_with_start(
        self, ticket_id: str, start: TicketStart, message: CustomerMessage
    ) -> TurnResult:
        """Deliver a message and wait for the bot's replies to it (update-with-start); 422
        if the workflow refuses the message."""
        began = time.perf_counter()
        routed = self.route(start, message.text)
        bind_ticket(ticket_id)
        # A ticket whose last run has ended is not restarted blindly: the message may be one
        # that run already answered, sent again because its answer was lost.
        reuse = WorkflowIDReusePolicy.REJECT_DUPLICATE
        for attempt in range(UPDATE_ATTEMPTS):
            operation = WithStartWorkflowOperation(
                TicketWorkflow.run,
                routed.start,
                id_reuse_policy=reuse,
                **self._start_options(ticket_id, routed),
            )
            try:
                result: TurnResult = await self.client.execute_update_with_start_workflow(
                    TicketWorkflow.message, message, start_workflow_operation=operation
                )
            except WorkflowAlreadyStartedError as err:
                with contextlib.suppress(WorkflowAlreadyStartedError):
                    await operation.workflow_handle()  # the same error, retrieved once
                earlier = await self._answered_before(ticket_id, err.run_id, message.message_id)
                if earlier is not None:
                    TURN_SECONDS.observe(time.perf_counter() - began)
                    log.info("message answered before", extra={"message_id": message.message_id})
                    return earlier
                # A new message after the end: the customer's next conversation.
                reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE
                continue
            except WorkflowUpdateFailedError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError):
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT, cause.message
                    ) from err
                raise
            except RPCError as err:
                if not _aborted_by_close(err) or attempt == UPDATE_ATTEMPTS - 1:
                    raise
                # The ticket ended before it took this message in: the message never reached
                # it, so sending it again starts the customer's next conversation.
                continue
            TURN_SECONDS.observe(time.perf_counter() - began)
            handle = await operation.workflow_handle()
            run_id = handle.run_id or handle.result_run_id
            bind_ticket(ticket_id, policy_id=result.policy_id, run_id=run_id)
            log.info("customer message answered", extra={"message_id": message.message_id})
            return result
        raise AssertionError("unreachable")

    async def _answered_before(
        self, ticket_id: str, run_id: str | None, message_id: str
    ) -> TurnResult | None:
        """The ended run's replies to `message_id`, if that run took it in (a query, which a
        worker answers by replaying the run)."""
        handle = self.client.get_workflow_handle(ticket_id, run_id=run_id)
        try:
            answered: TurnResult | None = await handle.query(
                TicketWorkflow.answered, message_id, rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # past retention: nothing to repeat
                return None
            # No worker can replay the ended run (its task queue or build is gone): a lost
            # answer cannot be told from a new message, and the customer is not kept
            # waiting on an old run, so the message starts the next conversation.
            log.warning(
                "could not ask the ended run about a message",
                extra={"message_id": message_id, "status": err.status.name if err.status else ""},
            )
            return None
        return answered

    async def report_claim(self, ticket_id: str, update: ClaimUpdate) -> bool:
        """Forward a carrier's claim update to its ticket; False if the ticket has ended."""
        try:
            await self.client.get_workflow_handle(ticket_id).signal(
                TicketWorkflow.claim_update, update
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise _unreachable(err) from err
        return True

    # -- what agents and operators do ------------------------------------------------------

    async def _running(self, ticket_id: str) -> WorkflowHandle[Any, Any]:
        """The handle of a running ticket; 404 if there is none, 409 if it has ended."""
        if parse_ticket_workflow_id(ticket_id) is None:
            raise unknown_ticket(ticket_id)
        handle = self.client.get_workflow_handle(ticket_id)
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise unknown_ticket(ticket_id) from err
            raise
        if described.status != WorkflowExecutionStatus.RUNNING:
            raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {ticket_id!r} has ended")
        return handle

    async def _signal_running(self, ticket_id: str, signal: Any, *args: Any) -> None:
        """Signal a running ticket; 409 when it ends between the check and the signal (a
        customer taking an offer while an agent closes the ticket)."""
        handle = await self._running(ticket_id)
        try:
            await handle.signal(signal, *args)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"ticket {ticket_id!r} has ended"
                ) from err
            raise _unreachable(err) from err

    async def act(self, ticket_id: str, action: AgentAction) -> None:
        await self._signal_running(ticket_id, TicketWorkflow.agent_action, action)

    async def close(self, ticket_id: str) -> None:
        await self._signal_running(ticket_id, TicketWorkflow.close)

    async def view(self, ticket_id: str) -> TicketView:
        """State, transcript and trace from the workflow's queries; 503 when no worker
        answers (queries are answered by a worker polling the ticket's task queue)."""
        if parse_ticket_workflow_id(ticket_id) is None:
            raise unknown_ticket(ticket_id)
        handle = self.client.get_workflow_handle(ticket_id)
        try:
            state: TicketState = await handle.query(TicketWorkflow.state, rpc_timeout=QUERY_TIMEOUT)
            transcript: list[TranscriptEntry] = await handle.query(
                TicketWorkflow.transcript, rpc_timeout=QUERY_TIMEOUT
            )
            trace: list[TraceRow] = await handle.query(
                TicketWorkflow.trace, rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise unknown_ticket(ticket_id) from err
            if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"no worker answered for ticket {ticket_id!r}; is the worker running?",
                ) from err
            raise
        return TicketView(
            ticket_id=ticket_id,
            state=state,
            outcome=state.outcome,
            transcript=transcript,
            trace=trace,
        )

    async def page(
        self, filters: dict[str, str], page_size: int, token: bytes | None
    ) -> tuple[list[TicketSummary], bytes | None]:
        """One page of tickets from Temporal visibility, newest first, whose search
        attributes equal `filters` (attribute name → value); and the next page's token.
        A token the server refuses is a 422."""
        clauses = [
            f'WorkflowType = "{TicketWorkflow.__name__}"',
            'ExecutionStatus != "ContinuedAsNew"',
            *(f'{name} = "{value}"' for name, value in filters.items()),
        ]
        pages = self.client.list_workflows(
            " AND ".join(clauses), page_size=page_size, next_page_token=token
        )
        try:
            await pages.fetch_next_page()
        except RPCError as err:
            if token is not None and err.status == RPCStatusCode.INVALID_ARGUMENT:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, "next_page_token is not valid"
                ) from err
            raise
        tickets = [TicketSummary.of(execution) for execution in pages.current_page or []]
        return tickets, pages.next_page_token
