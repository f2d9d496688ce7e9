"""One customer message, answered in the mode the ticket is in: a satisfaction rating, a
message after the ending, one an agent reads, one about the pending claim, or a turn of
the conversation with the bot (read, routed to a policy when it needs one, and the plan
advanced)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.message_reading import MessageRead
    from workflows.interpreter import Reply, Started
    from workflows.ticket_claims import ClaimFollowUp
    from workflows.ticket_customer_key import CustomerKeyIndex
    from workflows.ticket_helpdesk import HelpdeskIO
    from workflows.ticket_measures import TicketMeasures
    from workflows.ticket_models import CustomerMessage, TicketMemory
    from workflows.ticket_routing import PolicyEntry
    from workflows.ticket_steps import PolicySteps

AFTER_THE_END = (
    "Thanks for your message. This conversation is already wrapped up, so I can't act on "
    "it here. Write to us again and I'll start a new conversation for your request."
)
TO_A_PERSON = "Of course. I'm passing you to a member of our team, who will reply here."
UNROUTED = "Thanks. I'm passing your message to a member of our team, who will help."


class Conversation:
    def __init__(
        self,
        mem: TicketMemory,
        *,
        helpdesk: HelpdeskIO,
        entry: PolicyEntry,
        steps: PolicySteps,
        claims: ClaimFollowUp,
        measures: TicketMeasures,
        customer_key: CustomerKeyIndex,
    ) -> None:
        self.mem = mem
        self.helpdesk = helpdesk
        self.entry = entry
        self.steps = steps
        self.claims = claims
        self.measures = measures
        self.customer_key = customer_key

    async def on_message(self, message: CustomerMessage) -> list[str]:
        """The bot's replies to `message` (none while an agent has the ticket)."""
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
            email = self.customer_key.unkeyed_email()
            read = await self.entry.read(
                message, expecting=not plan_done, routes=routes, email=email
            )
            if read.customer_key is not None:
                self.customer_key.keyed(read.customer_key)
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
