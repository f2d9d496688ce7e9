"""The ticket's side of a carrier claim: start the follow-up (a child workflow), hear its
reports, answer the customer meanwhile, and carry the policy on when the carrier decides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.claim import CarrierClaimWorkflow
    from workflows.claim_messages import (
        claim_filed_message,
        final_message,
        history_note,
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
        parse_duration,
        parse_flag,
    )
    from workflows.interpreter import ClaimResolved, Event, FollowUpClaim, node_at
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_models import (
        ClaimUpdate,
        CustomerMessage,
        Outcome,
        TicketMemory,
        TicketStart,
        TraceRow,
    )

Advance = Callable[[Event], Awaitable[list[str]]]


class ClaimFollowUp:
    def __init__(self, start: TicketStart, mem: TicketMemory, helpdesk: HelpdeskIO) -> None:
        self.start = start
        self.mem = mem
        self.helpdesk = helpdesk
        # The child started in this run (a later run reaches it by id only).
        self._child: workflow.ChildWorkflowHandle[Any, Any] | None = None

    def _settings(self) -> dict[str, Any]:
        plan = self.mem.current_plan()
        return plan.settings if plan else {}

    async def follow(self, command: FollowUpClaim) -> list[str]:
        """Start the child that follows the filed claim; tell the customer its reference."""
        claim_id = str(command.claim.get("claim_id") or "")
        if not claim_id:
            return []
        settings = self._settings()
        every = parse_duration(settings.get("claim_check_every"), DEFAULT_CHECK_EVERY)
        carrier = str(command.claim.get("carrier") or "")
        ticket_id = workflow.info().workflow_id
        child_id = claim_workflow_id(ticket_id, claim_id)
        try:
            self._child = await workflow.start_child_workflow(
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
        self.mem.claim_child_id = child_id
        self.mem.claim_cancel_asked = False
        return [claim_filed_message(claim_id, carrier, every)]

    def child_id(self) -> str | None:
        """The running follow-up's workflow id, while the plan waits for a claim."""
        mem = self.mem
        if not mem.waiting_for_claim or mem.interpreter is None:
            return None
        if mem.claim_child_id is None:
            claim = mem.interpreter.context.get("claim")
            claim_id = claim.get("claim_id") if isinstance(claim, dict) else None
            if claim_id:
                mem.claim_child_id = claim_workflow_id(workflow.info().workflow_id, claim_id)
        return mem.claim_child_id

    async def _signal_child(self, child_id: str, signal: ClaimSignal) -> bool:
        try:
            await workflow.get_external_workflow_handle(child_id).signal(
                CarrierClaimWorkflow.claim_update, signal
            )
        except FailureError:
            return False  # the follow-up has just ended: its final report is on its way
        return True

    async def on_update(self, update: ClaimUpdate, advance: Advance) -> None:
        """A carrier webhook (verified by the API): wakes the follow-up at once; with no
        follow-up running (the claim had no id) a final status decides directly."""
        child_id = self.child_id()
        if child_id is not None:
            await self._signal_child(
                child_id,
                ClaimSignal(status=update.status or None, approved_amount=update.approved_amount),
            )
            return
        waiting = self.mem.waiting
        if waiting is None or waiting.kind != "claim" or update.status not in FINAL_STATUSES:
            return
        event = ClaimResolved(
            node=waiting.node,
            approved=update.status in APPROVED_STATUSES,
            claim=update.model_dump(),
        )
        replies = await advance(event)
        await self.helpdesk.tell(replies, key=f"claim-{update.status}")

    async def stop(self) -> None:
        """The ticket is closing: the follow-up stops (the claim stays with the carrier)."""
        child_id = self.child_id()
        if child_id is not None:
            await self._signal_child(child_id, ClaimSignal(stop=True, source="ticket"))
        self.mem.claim_child_id = None
        await self._child_ended()

    async def _child_ended(self) -> None:
        """Wait for a follow-up started in this run to end, so a child never outlives a
        finished ticket (one started before a continue-as-new ends on its own)."""
        child, self._child = self._child, None
        if child is not None:
            try:
                await child
            except ChildWorkflowError:
                pass

    async def on_progress(self, progress: ClaimProgress, advance: Advance) -> None:
        mem = self.mem
        waiting = mem.waiting
        if mem.interpreter is None or waiting is None or waiting.kind != "claim":
            return  # a late report after the claim was settled
        mem.claim_last = progress
        self._trace_check(progress)
        key = f"claim-{progress.claim_id}-{progress.check.at:%Y%m%dT%H%M%S%f}"
        if not progress.final:
            text = progress_message(progress)
            if text:
                await self.helpdesk.tell([text], key=key)
            return
        mem.claim_child_id = None
        await self._child_ended()  # it ends right after this report
        note = history_note(progress.claim_id, progress.history)
        if progress.resolution == "deadline":
            await self.helpdesk.tell([final_message(progress)], key=key)
            await self.helpdesk.hand_off(
                reason="the carrier did not decide the claim in time", note=note
            )
            return
        if progress.resolution == "cancelled" and mem.claim_cancel_asked:
            await self.helpdesk.tell(
                [
                    final_message(progress),
                    "I'm glad it turned up. I'm closing this conversation; write to us any time.",
                ],
                key=key,
            )
            mem.outcome = Outcome.RESOLVED
            return
        approved = progress.resolution in APPROVED_STATUSES
        if not approved:
            # The claim's history for the agents, before the policy decides what next.
            await self.helpdesk.internal_note(note, key=f"claim-history/{progress.claim_id}")
        claim = mem.interpreter.context.get("claim")
        resolved = {
            **(claim if isinstance(claim, dict) else {}),
            "claim_id": progress.claim_id,
            "status": progress.check.status,
            "approved_amount": progress.check.approved_amount,
        }
        replies = [final_message(progress)]
        replies += await advance(
            ClaimResolved(node=waiting.node, approved=approved, claim=resolved)
        )
        await self.helpdesk.tell(replies, key=key)

    async def answer(self, message: CustomerMessage) -> list[str]:
        """A customer message while the carrier decides: the status so far, or withdraw."""
        mem = self.mem
        child_id = self.child_id()
        claim = mem.interpreter.context.get("claim") if mem.interpreter else None
        claim = claim if isinstance(claim, dict) else {}
        claim_id = str(claim.get("claim_id") or "")
        last = mem.claim_last
        status = last.check.status if last else str(claim.get("status") or "submitted")
        replies: list[str] = []
        if child_id and wants_claim_cancelled(message.text):
            if await self._signal_child(child_id, ClaimSignal(cancel=True, source="ticket")):
                mem.claim_cancel_asked = True
                replies.append(
                    f"Understood: I've asked the carrier to withdraw claim {claim_id}. "
                    "I'll confirm here in a moment."
                )
        if not replies:
            # The follow-up reports only changes (and the weekly note): the looks since
            # follow the plan it sent with its last report.
            checked = last.last_checked(workflow.now()) if last else None
            replies.append(status_so_far(claim_id, status, checked))
        await self.helpdesk.tell(replies, key=f"msg-{message.message_id}")
        return replies

    def _trace_check(self, progress: ClaimProgress) -> None:
        mem = self.mem
        plan = mem.current_plan()
        state = mem.interpreter
        if state is None or state.waiting is None or plan is None:
            return
        node = node_at(plan, state.waiting.node)
        check = progress.check
        detail = f"{check.source}: {check.status}"
        if check.changed and check.source != "filed":
            detail += f" (was {progress.previous})"
        if check.detail:
            detail += f"; {check.detail}"
        mem.trace.append(
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
