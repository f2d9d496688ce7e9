"""Skio and Stay AI connectors: the error contract over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from activities.platforms.base import (
    NotFound,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from activities.platforms.skio import SkioConnector
from activities.platforms.stayai import StayAiConnector
from sandbox.skio import SUB_JO, SUB_RIO
from tests.sandbox_fixtures import SandboxControl
from ticketflow.settings import Settings


async def test_skio_errors_and_recovery(
    sandbox_settings: Settings, sandbox: SandboxControl
) -> None:
    skio = SkioConnector(sandbox_settings.skio)
    with pytest.raises(NotFound):
        await skio.get_subscription("sub_nope")
    sandbox.fault("skio", rate_limit_next=1, retry_after=2, fail_next=1)
    with pytest.raises(PlatformRateLimited) as limited:
        await skio.get_subscription(SUB_RIO)
    assert limited.value.next_retry_delay == timedelta(seconds=2)
    with pytest.raises(PlatformUnavailable):
        await skio.get_subscription(SUB_RIO)
    assert (await skio.get_subscription(SUB_RIO)).status == "active"
    with pytest.raises(PlatformRejected, match="Only active"):
        await _skip_cancelled(skio)
    await skio.aclose()
    bad = SkioConnector(sandbox_settings.skio.model_copy(update={"api_token": SecretStr("x")}))
    with pytest.raises(PlatformAuthError):
        await bad.list_subscriptions("rio@example.com")
    await bad.aclose()


async def _skip_cancelled(skio: SkioConnector) -> None:
    await skio.cancel(SUB_JO, "k-cancel")
    await skio.skip_next(SUB_JO, "k-skip")


async def test_stayai_errors_and_recovery(
    sandbox_settings: Settings, sandbox: SandboxControl
) -> None:
    stay = StayAiConnector(sandbox_settings.stayai)
    with pytest.raises(NotFound, match="Order not found"):
        await stay.get_order("0")
    sandbox.fault("stayai", rate_limit_next=1, retry_after=4, fail_next=1)
    with pytest.raises(PlatformRateLimited) as limited:
        await stay.get_order("7001")
    assert limited.value.next_retry_delay == timedelta(seconds=4)
    with pytest.raises(PlatformUnavailable):
        await stay.get_order("7001")
    assert (await stay.get_order("7001")).status == "delivered"
    with pytest.raises(PlatformRejected, match="already active"):
        await stay._action("sub_kim", "reactivate", "k")
    await stay.aclose()
    bad = StayAiConnector(
        sandbox_settings.stayai.model_copy(update={"access_token": SecretStr("x")})
    )
    with pytest.raises(PlatformAuthError, match="Unauthorized"):
        await bad.get_order("7001")
    await bad.aclose()
