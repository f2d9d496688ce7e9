"""Ticket API for the web channel, tooling and operators. A ticket id is its workflow id."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
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
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.policy_store import PolicyActivities, RouteRequest
from api.deps import LibraryDep, SettingsDep, TemporalDep, require_api_key
from api.log_context import bind_ticket, log
from api.problems import problem_responses
from policies.library import PolicyLibrary
from policies.platforms import PLATFORM_TITLES, platform_key
from ticketflow.settings import Settings
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    AgentAction,
    Customer,
    CustomerMessage,
    TicketStart,
    TicketState,
    TicketStatus,
    TraceRow,
    TranscriptEntry,
    TurnResult,
    parse_ticket_workflow_id,
    ticket_workflow_id,
)

router = APIRouter(
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[Depends(require_api_key)],
    responses=problem_responses(401, 422),
)

WEB_CHANNEL = "web"
# Search-attribute values are matched literally; this keeps filters from becoming queries.
FILTER_VALUE = r"^[A-Za-z0-9 _.:-]{1,100}$"
QUERY_TIMEOUT = timedelta(seconds=10)


class NewTicket(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    customer: Customer = Field(default_factory=Customer)
    ticket_type: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$", description="Defaults to a new id."
    )
    message_id: str | None = None


class NewMessage(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    message_id: str | None = Field(
        default=None, description="Your id for this message; resending it is harmless."
    )


class Accepted(BaseModel):
    """The ticket took the message / action; the workflow does the work asynchronously."""

    ticket_id: str
    message_id: str | None = None
    accepted: bool = True


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


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_page_token: str | None = Field(
        description="pass as `next_page_token` for the next page; None on the last page"
    )


def _routed(start: TicketStart, text: str, library: PolicyLibrary) -> tuple[TicketStart, str]:
    """Pick the policy up front (when the words are clear) and say, without PII, what the
    ticket is: "Cancel order — BigCommerce/Kustomer" in the Temporal UI's summary column.

    The same routing the workflow does, over the library the app loaded at startup."""
    router = PolicyActivities(library)
    route = router.route(
        RouteRequest(
            text=text,
            helpdesk=start.helpdesk,
            ticket_type=start.ticket_type,
            policy_id=start.policy_id,
        )
    )
    if route.policy_id is None:
        return (
            start,
            f"{PLATFORM_TITLES.get(start.helpdesk, start.helpdesk)} ticket — not routed yet",
        )
    plan = router.library.get(route.policy_id)
    kind = plan.ticket_types[0] if plan.ticket_types else plan.title
    platforms = "/".join(PLATFORM_TITLES.get(platform_key(p), p) for p in plan.platforms)
    return start.model_copy(update={"policy_id": plan.id}), f"{kind} — {platforms}"


def _start_options(
    settings: Settings, ticket_id: str, start: TicketStart, summary: str
) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "task_queue": settings.task_queue,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "search_attributes": TypedSearchAttributes(
            [
                SearchAttributePair(sa.TICKET_STATUS, TicketStatus.OPEN.value),
                SearchAttributePair(sa.HELPDESK, start.helpdesk),
                SearchAttributePair(sa.TICKET_TYPE, start.ticket_type or "unrouted"),
            ]
        ),
        "static_summary": summary,
    }


async def signal_with_start(
    client: Client,
    settings: Settings,
    library: PolicyLibrary,
    ticket_id: str,
    start: TicketStart,
    msg: CustomerMessage,
) -> None:
    """Deliver a message without waiting for the bot: start the ticket if it is new."""
    start, summary = _routed(start, msg.text, library)
    bind_ticket(ticket_id)
    handle = await client.start_workflow(
        TicketWorkflow.run,
        start,
        start_signal="customer_message",
        start_signal_args=[msg],
        **_start_options(settings, ticket_id, start, summary),
    )
    bind_ticket(ticket_id, run_id=handle.run_id or handle.result_run_id)
    log.info("customer message delivered", extra={"message_id": msg.message_id})


async def _deliver(
    client: Client,
    settings: Settings,
    library: PolicyLibrary,
    ticket_id: str,
    start: TicketStart,
    msg: CustomerMessage,
) -> TurnResult:
    start, summary = _routed(start, msg.text, library)
    bind_ticket(ticket_id)
    for attempt in range(UPDATE_ATTEMPTS):
        operation = WithStartWorkflowOperation(
            TicketWorkflow.run, start, **_start_options(settings, ticket_id, start, summary)
        )
        try:
            result: TurnResult = await client.execute_update_with_start_workflow(
                TicketWorkflow.message, msg, start_workflow_operation=operation
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, cause.message) from err
            raise
        except RPCError as err:
            if not _aborted_by_close(err) or attempt == UPDATE_ATTEMPTS - 1:
                raise
            # The ticket ended before it took this message in: the message never reached
            # it, so sending it again starts the customer's next conversation.
            continue
        handle = await operation.workflow_handle()
        run_id = handle.run_id or handle.result_run_id
        bind_ticket(ticket_id, policy_id=result.policy_id, run_id=run_id)
        log.info("customer message answered", extra={"message_id": msg.message_id})
        return result
    raise AssertionError("unreachable")


#: A message racing the end of its ticket is sent again, to the next run, this many times.
UPDATE_ATTEMPTS = 3


def _aborted_by_close(err: RPCError) -> bool:
    """The server's answer to an update admitted while the workflow was completing."""
    return err.status == RPCStatusCode.NOT_FOUND and "aborted by closing" in err.message


def _unknown(ticket_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"unknown ticket {ticket_id!r}")


async def _running(client: Client, ticket_id: str) -> WorkflowHandle[Any, Any]:
    """The handle of a running ticket; 404 if there is none, 409 if it has ended."""
    if parse_ticket_workflow_id(ticket_id) is None:
        raise _unknown(ticket_id)
    handle = client.get_workflow_handle(ticket_id)
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _unknown(ticket_id) from err
        raise
    if described.status != WorkflowExecutionStatus.RUNNING:
        raise HTTPException(status.HTTP_409_CONFLICT, f"ticket {ticket_id!r} has ended")
    return handle


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(
    body: NewTicket, client: TemporalDep, settings: SettingsDep, library: LibraryDep
) -> TurnResult:
    """Open a web-channel ticket with the customer's first message; returns the first replies."""
    external_id = body.external_id or uuid.uuid4().hex[:16]
    ticket_id = ticket_workflow_id(WEB_CHANNEL, external_id)
    start = TicketStart(
        helpdesk=WEB_CHANNEL,
        external_id=external_id,
        customer=body.customer,
        ticket_type=body.ticket_type,
        context=body.context,
    )
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.message)
    return await _deliver(client, settings, library, ticket_id, start, msg)


@router.post(
    "/{ticket_id}/messages",
    responses={
        202: {"model": Accepted, "description": "with `wait=false`: accepted, not yet answered"},
        **problem_responses(404),
    },
)
async def post_message(
    ticket_id: str,
    body: NewMessage,
    client: TemporalDep,
    settings: SettingsDep,
    library: LibraryDep,
    response: Response,
    wait: Annotated[
        bool, Query(description="false: answer 202 at once; the replies come later")
    ] = True,
) -> TurnResult | Accepted:
    """Deliver a customer message (update-with-start) and return the bot's replies."""
    parsed = parse_ticket_workflow_id(ticket_id)
    if parsed is None:
        raise _unknown(ticket_id)
    helpdesk, external_id = parsed
    start = TicketStart(helpdesk=helpdesk, external_id=external_id)
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.text)
    if wait:
        return await _deliver(client, settings, library, ticket_id, start, msg)
    if not msg.text.strip():
        # The same rule the workflow's update validator applies to waiting callers.
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "message text is empty")
    await signal_with_start(client, settings, library, ticket_id, start, msg)
    response.status_code = status.HTTP_202_ACCEPTED
    return Accepted(ticket_id=ticket_id, message_id=msg.message_id)


def _summary(execution: WorkflowExecution) -> TicketSummary:
    attrs = execution.typed_search_attributes
    return TicketSummary(
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


def _encode_page_token(raw: bytes) -> str:
    """Temporal's page token plus a checksum, so a mangled token is refused here and never
    reaches the server (which answers junk tokens with retried internal errors)."""
    check = hashlib.sha256(raw).hexdigest()[:16]
    return base64.urlsafe_b64encode(raw).decode() + "." + check


def _decode_page_token(token: str) -> bytes:
    encoded, _, check = token.partition(".")
    try:
        raw = base64.b64decode(encoded.encode(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or not hmac.compare_digest(hashlib.sha256(raw).hexdigest()[:16], check):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "next_page_token is not valid")
    return raw


@router.get("")
async def list_tickets(
    client: TemporalDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    policy: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    outcome: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    ticket_type: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    helpdesk: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    next_page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> TicketPage:
    """Tickets from Temporal visibility, newest first (eventually consistent: a ticket
    appears, and its status changes, within about a second)."""
    clauses = [f'WorkflowType = "{TicketWorkflow.__name__}"', 'ExecutionStatus != "ContinuedAsNew"']
    for key, value in (
        (sa.TICKET_STATUS, status_.value if status_ else None),
        (sa.POLICY_ID, policy),
        (sa.OUTCOME, outcome),
        (sa.TICKET_TYPE, ticket_type),
        (sa.HELPDESK, helpdesk),
    ):
        if value is not None:
            clauses.append(f'{key.name} = "{value}"')
    token = _decode_page_token(next_page_token) if next_page_token else None
    pages = client.list_workflows(" AND ".join(clauses), page_size=page_size, next_page_token=token)
    try:
        await pages.fetch_next_page()
    except RPCError as err:
        if token is not None and err.status == RPCStatusCode.INVALID_ARGUMENT:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "next_page_token is not valid"
            ) from err
        raise
    following = pages.next_page_token
    return TicketPage(
        tickets=[_summary(execution) for execution in pages.current_page or []],
        next_page_token=_encode_page_token(following) if following else None,
    )


@router.get("/{ticket_id}", responses=problem_responses(404, 503))
async def get_ticket(ticket_id: str, client: TemporalDep) -> TicketView:
    """State, transcript, trace and outcome, read from the workflow's queries."""
    if parse_ticket_workflow_id(ticket_id) is None:
        raise _unknown(ticket_id)
    handle = client.get_workflow_handle(ticket_id)
    try:
        state: TicketState = await handle.query(TicketWorkflow.state, rpc_timeout=QUERY_TIMEOUT)
        transcript: list[TranscriptEntry] = await handle.query(
            TicketWorkflow.transcript, rpc_timeout=QUERY_TIMEOUT
        )
        trace: list[TraceRow] = await handle.query(TicketWorkflow.trace, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise _unknown(ticket_id) from err
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
            # Queries are answered by a worker: none is polling the ticket's task queue.
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


class AgentRequest(BaseModel):
    action: Literal["takeover", "release", "resolve", "note"] = Field(
        description="takeover: the bot goes silent; release: back to the bot; "
        "resolve: end the ticket; note: add an agent note to the transcript"
    )
    agent: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


@router.post(
    "/{ticket_id}/agent",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def agent_action(ticket_id: str, body: AgentRequest, client: TemporalDep) -> Accepted:
    """What a human agent did: take over, release to the bot, resolve, or note."""
    handle = await _running(client, ticket_id)
    await handle.signal(TicketWorkflow.agent_action, AgentAction(**body.model_dump()))
    return Accepted(ticket_id=ticket_id)


@router.post(
    "/{ticket_id}/close",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def close_ticket(ticket_id: str, client: TemporalDep) -> Accepted:
    """Close the ticket: the workflow ends with its current outcome."""
    handle = await _running(client, ticket_id)
    await handle.signal(TicketWorkflow.close)
    return Accepted(ticket_id=ticket_id)
