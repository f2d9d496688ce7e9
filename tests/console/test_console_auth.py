"""Signing in to the console and what each role may do, over real HTTP on both database
backends: the session cookie, lock-out, sign-out, CSRF on every write, roles."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from api.console.session import SESSION_COOKIE
from api.console.users import MAX_FAILED_LOGINS, Role
from api.services import policy_store
from tests.api.test_policy_store import source
from tests.console.conftest import Login, csrf_token, sign_in

Browser = Callable[[], httpx.AsyncClient]


async def test_sign_in_sets_a_locked_down_cookie_and_shows_the_policies(
    browser_like: Browser, make_user: Callable[[Role], Login]
) -> None:
    client = browser_like()
    outside = await client.get("/console/policies")
    assert outside.status_code == 303
    assert outside.headers["location"] == "/console/login?next=%2Fconsole%2Fpolicies"

    viewer = make_user(Role.VIEWER)
    signed = await sign_in(client, viewer)
    assert signed.status_code == 303 and signed.headers["location"] == "/console/policies"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie

    page = await client.get("/console/policies")
    assert page.status_code == 200
    assert viewer.email in page.text and "viewer" in page.text
    assert "refund" in page.text  # the bundled library, published on first start
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_a_wrong_password_is_refused_and_repeated_ones_lock_the_account(
    browser_like: Browser, make_user: Callable[[Role], Login]
) -> None:
    client = browser_like()
    user = make_user(Role.EDITOR)
    unknown = await sign_in(client, Login("nobody@example.com", "whatever-it-is"))
    wrong = await sign_in(client, Login(user.email, "not-the-password"))
    assert unknown.status_code == wrong.status_code == 401
    assert "do not match" in wrong.text and "do not match" in unknown.text
    assert client.cookies.get(SESSION_COOKIE) is None

    for _ in range(MAX_FAILED_LOGINS - 2):
        assert (await sign_in(client, Login(user.email, "still-wrong"))).status_code == 401
    locked = await sign_in(client, Login(user.email, "wrong-the-fifth-time"))
    assert locked.status_code == 429 and "locked for 15 minutes" in locked.text
    # Locked: even the right password does not open it now.
    right = await sign_in(client, user)
    assert right.status_code == 429 and "locked" in right.text
    assert (await client.get("/console/policies")).status_code == 303


async def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    browser_like: Browser, make_user: Callable[[Role], Login]
) -> None:
    client = browser_like()
    await sign_in(client, make_user(Role.OPERATOR))
    copied = client.cookies.get(SESSION_COOKIE)
    page = await client.get("/console/policies")
    out = await client.post("/console/logout", data={"csrf_token": csrf_token(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"

    thief = browser_like()
    thief.cookies.set(SESSION_COOKIE, copied or "", path="/console")
    assert (await thief.get("/console/policies")).status_code == 303


async def test_every_write_needs_the_session_csrf_token(
    browser_like: Browser, make_user: Callable[[Role], Login], app_engine: Engine
) -> None:
    client = browser_like()
    await sign_in(client, make_user(Role.EDITOR))
    page = await client.get("/console/policies/refund")
    assert page.status_code == 200
    token = csrf_token(page.text)
    before = policy_store.editable(app_engine, "refund")
    changed = before.source + "\n"
    for sent in ({}, {"csrf_token": "forged"}):
        refused = await client.post(
            "/console/policies/refund/draft", data={"source": changed, **sent}
        )
        assert refused.status_code == 403 and "out of date" in refused.text
    # Nothing was saved: the draft (another test may have left one) is as it was.
    assert policy_store.editable(app_engine, "refund").draft == before.draft
    # The sign-in form has its own token: a cross-site sign-in without it is refused.
    stranger = browser_like()
    forged = await stranger.post(
        "/console/login", data={"email": "a@example.com", "password": "x", "csrf_token": token}
    )
    assert forged.status_code == 403
    # The editor's checker takes the token as a header.
    check = "/console/policies/refund/check"
    published = before.published.source if before.published else ""
    assert (await client.post(check, json={"source": published})).status_code == 403
    checked = await client.post(check, json={"source": published}, headers={"X-CSRF-Token": token})
    assert checked.status_code == 200 and checked.json()["ok"] is True


async def test_viewers_cannot_edit_operators_cannot_publish_editors_can(
    browser_like: Browser, make_user: Callable[[Role], Login], app_engine: Engine
) -> None:
    pid = f"c_{uuid.uuid4().hex[:8]}"
    policy_store.save_draft(app_engine, pid, source(pid), "tests")
    for role in (Role.VIEWER, Role.OPERATOR):
        client = browser_like()
        await sign_in(client, make_user(role))
        page = await client.get(f"/console/policies/{pid}")
        assert page.status_code == 200 and 'id="publish"' not in page.text
        token = csrf_token(page.text)
        draft = await client.post(
            f"/console/policies/{pid}/draft",
            data={"source": source(pid, "Hi."), "csrf_token": token},
        )
        published = await client.post(
            f"/console/policies/{pid}/publish", data={"message": "go", "csrf_token": token}
        )
        assert draft.status_code == published.status_code == 403
        assert f"your role ({role})" in published.text
    assert policy_store.list_versions(app_engine, pid)[0] is None

    editor = browser_like()
    await sign_in(editor, make_user(Role.EDITOR))
    page = await editor.get(f"/console/policies/{pid}")
    token = csrf_token(page.text)
    broken = source(pid, "Use @get_ordr_details(order_id: $order_id).")
    saved = await editor.post(
        f"/console/policies/{pid}/draft", data={"source": broken, "csrf_token": token}
    )
    assert saved.status_code == 303
    refused = await editor.post(
        f"/console/policies/{pid}/publish", data={"message": "go", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "Not published" in refused.text and "get_ordr_details" in refused.text
    await editor.post(
        f"/console/policies/{pid}/draft", data={"source": source(pid, "Hi."), "csrf_token": token}
    )
    done = await editor.post(
        f"/console/policies/{pid}/publish", data={"message": "first", "csrf_token": token}
    )
    assert done.status_code == 303, done.text
    published_now, versions = policy_store.list_versions(app_engine, pid)
    assert published_now is not None and versions[0].author.startswith("editor-")
    assert versions[0].message == "first"
