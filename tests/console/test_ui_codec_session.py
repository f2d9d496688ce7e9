"""The Temporal UI decodes payloads for an operator signed in to the console: the UI
(`TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`) calls `/console/codec/*` from the browser with
the console's session cookie; without a session, or from another origin, it gets nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from api.console.users import Role
from tests.console.conftest import Login, sign_in

UI_ORIGIN = "http://localhost:8233"  # the dev UI's origin, allowed by default
PLAIN = {
    "payloads": [
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'{"email": "zq@example.com"}').decode(),
        }
    ]
}


async def test_a_signed_in_viewer_decodes_through_the_ui_origin(
    browser_like: Callable[[], httpx.AsyncClient], make_user: Callable[[Role], Login]
) -> None:
    browser = browser_like()
    await sign_in(browser, make_user(Role.VIEWER))
    ui = {"Origin": UI_ORIGIN}

    sealed = await browser.post("/console/codec/encode", json=PLAIN, headers=ui)
    assert sealed.status_code == 200, sealed.text
    assert sealed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert sealed.headers["access-control-allow-credentials"] == "true"
    assert b"zq@example.com" not in base64.b64decode(sealed.json()["payloads"][0]["data"])
    opened = await browser.post("/console/codec/decode", json=sealed.json(), headers=ui)
    assert opened.status_code == 200, opened.text
    assert opened.json() == PLAIN

    # The same session from any other origin (a page that is not the UI): refused.
    elsewhere = {"Origin": "http://localhost:9999"}
    refused = await browser.post("/console/codec/decode", json=sealed.json(), headers=elsewhere)
    assert refused.status_code == 401
    # No session (a browser that never signed in): refused, even from the UI's origin.
    stranger = browser_like()
    refused = await stranger.post("/console/codec/decode", json=sealed.json(), headers=ui)
    assert refused.status_code == 401


async def test_the_preflight_allows_the_ui_with_credentials(
    browser_like: Callable[[], httpx.AsyncClient],
) -> None:
    preflight = await browser_like().options(
        "/console/codec/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
