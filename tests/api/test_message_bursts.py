"""A customer who keeps typing while the bot finishes: every HTTP call gets an answer."""

from __future__ import annotations

import asyncio

import httpx


async def test_a_burst_of_messages_at_the_last_step_all_get_answers(
    http: httpx.AsyncClient,
) -> None:
    opened = await http.post(
        "/tickets",
        json={
            "message": "Hi, I want to cancel my order 5001",
            "customer": {"email": "alex@example.com", "name": "Alex"},
        },
    )
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["ticket_id"]

    async def say(text: str, delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        return await http.post(f"/tickets/{ticket_id}/messages", json={"text": text})

    # The offer is taken and, while the ticket wraps up, more messages keep coming.
    texts = ["1", "thanks!", "can you confirm by email?", "also, when does it ship?", "bye"]
    answers = await asyncio.wait_for(
        asyncio.gather(*(say(text, 0.05 * i) for i, text in enumerate(texts))), timeout=60
    )
    assert [a.status_code for a in answers] == [200] * len(texts), [a.text[-300:] for a in answers]
    # Each call answers its own message (an empty reply is an agent's turn to speak).
    assert len({a.json()["message_id"] for a in answers}) == len(texts)
    assert any(
        "Thank you for keeping your order" in r for a in answers for r in a.json()["replies"]
    )
