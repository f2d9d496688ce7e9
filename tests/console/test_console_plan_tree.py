"""The compiled plan beside the text is a tree, over real HTTP on both backends: an offer's
options and a branch's then / otherwise hold their nested steps, and every node and group
links to its line; the checker's JSON (what the editor redraws as you type) has the same
shape."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from api.console.users import Role
from api.services import policy_store
from tests.console.conftest import Login, csrf_token, sign_in

Browser = Callable[[], httpx.AsyncClient]

SOURCE = """---
id: {pid}
title: Keep or cancel
ticket_types: [{pid} request]
---
## Logic

1. Offer the customer a reason to keep their plan:
   - Discount: Inform the customer that 10% comes off the next order.
   - Pause: Inform the customer that the plan pauses for a month.
2. If the customer accepts:
   - Say “Great, your plan stays as it is.”
   - End the conversation as retained.
3. If the customer declines:
   - Say “Understood, your plan is cancelled.”
   - End the conversation as cancelled.
"""


def line_of(source: str, words: str) -> int:
    return next(n for n, text in enumerate(source.splitlines(), 1) if words in text)


def tree_shape(rows: list[dict]) -> list:
    return [
        (row["step"], row["kind"], [(g["label"], tree_shape(g["rows"])) for g in row["groups"]])
        for row in rows
    ]


async def test_the_plan_is_a_tree_linked_to_its_lines(
    browser_like: Browser, make_user: Callable[[Role], Login], app_engine: Engine
) -> None:
    pid = f"tree_{uuid.uuid4().hex[:8]}"
    source = SOURCE.format(pid=pid)
    policy_store.save_draft(app_engine, pid, source, "tests")
    viewer = browser_like()
    await sign_in(viewer, make_user(Role.VIEWER))
    page = await viewer.get(f"/console/policies/{pid}")
    assert page.status_code == 200
    plan = page.text.split('id="plan"', 1)[1].split("</aside>", 1)[0]

    # The offer's options are groups, each linked to its line, holding its say.
    discount = line_of(source, "- Discount:")
    assert re.search(
        rf'<a href="#L{discount}" data-line="{discount}" class="group-label">option: Discount</a>'
        r'\s*<ol class="plan">\s*<li><a href="#L\d+" data-line="\d+">'
        r'<span class="step">[^<]*</span>\s*<span class="kind">say</span> [^<]*10% comes off',
        plan,
    ), plan
    # The branch's steps sit under "then", the end node linked to its own line.
    retained = line_of(source, "End the conversation as retained")
    then_group = plan.split('class="group-label">then</a>', 1)[1].split("</ol>", 1)[0]
    assert "Great, your plan stays as it is." in then_group
    assert f'<a href="#L{retained}" data-line="{retained}">' in then_group
    assert '<span class="kind">end</span> retained' in then_group

    checked = await viewer.post(
        f"/console/policies/{pid}/check",
        json={"source": source},
        headers={"X-CSRF-Token": csrf_token(page.text)},
    )
    assert checked.status_code == 200
    shape = tree_shape(checked.json()["plan"])
    assert shape[0][1] == "offer"
    assert [label for label, _ in shape[0][2]] == ["option: Discount", "option: Pause"]
    assert [kind for _, kind, _ in shape[0][2][0][1]] == ["say"]
    assert shape[1][1] == "branch" and shape[1][2][0][0] == "then"
    assert [kind for _, kind, _ in shape[1][2][0][1]] == ["say", "end"]
