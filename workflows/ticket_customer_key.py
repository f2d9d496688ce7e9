"""The ticket's CustomerKey search attribute: a keyed hash of the customer's email, set
once the ticket knows the email (from the start or from a reply), so that export and
erasure find every ticket of a customer without the email in the index."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.activity_options import LOCAL_ACTIVITY_TIMED_OUT, LOCAL_RETRY, LOCAL_TIMEOUT
    from workflows.ticket_models import TicketMemory, TicketStart
    from workflows.ticket_status import SearchIndex

#: Patch id: tickets that start on this code index their CustomerKey; older histories
#: replay without it.
CUSTOMER_KEY_PATCH = "customer-key"


class CustomerKeyIndex:
    def __init__(self, start: TicketStart, mem: TicketMemory, index: SearchIndex) -> None:
        self.start = start
        self.mem = mem
        self.index = index
        # Set from `workflow.patched(CUSTOMER_KEY_PATCH)` at the start of each run.
        self.indexes = False

    async def index_customer(self) -> None:
        """Key the customer's email when the ticket has one and no CustomerKey yet. The
        hash is computed by a local activity: the secret never enters workflow code."""
        email = self.unkeyed_email()
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
        except LOCAL_ACTIVITY_TIMED_OUT:
            workflow.logger.warning("could not compute the CustomerKey; retrying later")
            return
        self.keyed(key)

    def keyed(self, key: str) -> None:
        self.index.set([sa.CUSTOMER_KEY.value_set(key)])
        self.mem.customer_keyed = True
        self.mem.customer_key = key

    def unkeyed_email(self) -> str | None:
        """The email to key, while the ticket has no CustomerKey (None in a run that
        started before CustomerKey existed)."""
        if self.mem.customer_keyed or not self.indexes:
            return None
        return self._customer_email()

    def _customer_email(self) -> str | None:
        """The helpdesk's or web channel's customer email, else one the caller put in the
        context, else one the customer wrote in a message."""
        context = self.start.context
        nested = context.get("customer")
        for candidate in (
            self.start.customer.email,
            nested.get("email") if isinstance(nested, dict) else None,
            context.get("email"),
            self.mem.known_slots.get("email"),
        ):
            if isinstance(candidate, str) and "@" in candidate:
                return candidate.strip()
        return None
