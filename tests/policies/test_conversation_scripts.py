"""Every conversation script in policies/tests, played as a real ticket on both servers.

The time-skipping test server drives turns by signal + transcript query; the dev server
(e2e) by the `message` update, as the API does. Each script resets the sandbox first, so
scripts never see each other's orders. A script marked `known_issue` describes wanted
behaviour a known bug breaks: it is a strict xfail, so the fix shows up as XPASS.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from rich.console import Console
from temporalio.testing import WorkflowEnvironment

from policies.library import PolicyLibrary
from tests.sandbox_fixtures import SandboxControl
from ticketflow.conversation_tests import (
    TESTS_DIR,
    Check,
    ConversationRunner,
    Script,
    ScriptResult,
    ToolCall,
    TurnExpect,
    TurnRecord,
    check_end,
    check_turn,
    load_script,
    print_result,
    script_paths,
    serving_runner,
)

SCRIPTS = script_paths([TESTS_DIR])


def _params(*marks: pytest.MarkDecorator) -> list:
    params = []
    for path in SCRIPTS:
        script = load_script(path)
        extra = [pytest.mark.xfail(strict=True, reason=script.known_issue)]
        params.append(
            pytest.param(path, id=path.stem, marks=[*marks, *(extra if script.known_issue else [])])
        )
    return params


def report(result: ScriptResult) -> str:
    """What `ticketflow policy test` prints, without colour: the assertion message."""
    buffer = io.StringIO()
    print_result(result, Console(file=buffer, width=120, no_color=True, highlight=False))
    return "\n".join(result.failures()) + "\n\n" + buffer.getvalue()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def skipping_runner(
    time_skipping_env: WorkflowEnvironment, sandbox_url: str
) -> AsyncIterator[ConversationRunner]:
    async with serving_runner(
        time_skipping_env.client, sandbox_url, mode="signal", queue_prefix="scripts"
    ) as runner:
        yield runner


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_runner(
    dev_env: WorkflowEnvironment, sandbox_url: str
) -> AsyncIterator[ConversationRunner]:
    async with serving_runner(
        dev_env.client, sandbox_url, mode="update", queue_prefix="scripts"
    ) as runner:
        yield runner


@pytest.mark.parametrize("path", _params())
async def test_script_on_time_skipping_server(
    path: Path, skipping_runner: ConversationRunner
) -> None:
    result = await skipping_runner.run(load_script(path))
    assert result.passed, report(result)


@pytest.mark.parametrize("path", _params(pytest.mark.e2e))
async def test_script_on_dev_server(path: Path, dev_runner: ConversationRunner) -> None:
    result = await dev_runner.run(load_script(path))
    assert result.passed, report(result)


# -- the scripts themselves ------------------------------------------------------------


def test_every_library_policy_has_a_happy_path_and_a_branch_that_run(
    library: PolicyLibrary,
) -> None:
    scripts = [load_script(p) for p in SCRIPTS]
    for policy_id in library.plans:
        mine = [s for s in scripts if s.policy == policy_id]
        running = [s for s in mine if not s.known_issue]
        assert len(mine) >= 2, f"{policy_id}: {len(mine)} scripts"
        assert len(running) >= 2, f"{policy_id}: fewer than two scripts that run"
    unknown = {s.policy for s in scripts} - set(library.plans)
    assert not unknown, f"scripts name policies the library lacks: {unknown}"


def test_a_misspelt_expectation_is_rejected_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        "policy: refund\nturns:\n  - say: hi\n    expect:\n      replies_contains: [x]\n"
    )
    with pytest.raises(ValueError, match="replies_contains"):
        load_script(path)


def test_yaml_yes_and_numbers_are_what_the_customer_typed(tmp_path: Path) -> None:
    path = tmp_path / "scalars.yaml"
    path.write_text("policy: refund\nturns:\n  - say: yes\n  - say: 2\n  - say: no\n")
    assert [t.say for t in load_script(path).turns] == ["yes", "2", "no"]


def test_checks_name_what_was_expected_and_what_happened() -> None:
    record = TurnRecord(
        say="1",
        replies=["Your order has been updated."],
        tool_calls=[ToolCall(tool="set_discount_to_order", policy_id="p")],
        status="resolved",
        slots={"order_id": "7001"},
    )
    checks = check_turn(
        TurnExpect(
            replies_contain=["has been UPDATED", "cancelled"],
            tool_calls=["cancel_order"],
            slots={"order_id": 7001, "email": "x@example.com"},
            status="escalated",
        ),
        record,
    )
    by_label = {c.label: c for c in checks}
    assert by_label["reply contains “has been UPDATED”"].passed
    assert by_label["reply contains “cancelled”"] == Check(
        label="reply contains “cancelled”",
        passed=False,
        detail="bot: Your order has been updated.",
    )
    assert by_label["tools called: cancel_order"].detail == "called: set_discount_to_order"
    assert by_label["slot order_id = 7001"].passed
    assert by_label["slot email = 'x@example.com'"].detail == "'(not set)'"
    assert by_label["status escalated"].detail == "resolved"

    script = Script(
        policy="p",
        turns=[{"say": "hi"}],
        outcome="cancelled",
        side_effects=[{"platform": "bigcommerce", "operation": "order.update"}],
    )
    end = check_end(script, "retained", "resolved", [{"platform": "stayai", "operation": "x"}])
    assert [(c.label, c.passed, c.detail) for c in end] == [
        ("outcome cancelled", False, "retained"),
        ("side effect bigcommerce order.update × 1", False, "× 0"),
        ("no other side effects", False, "stayai x × 1"),
    ]


async def test_a_wrong_expectation_fails_with_a_clear_message(
    skipping_runner: ConversationRunner,
) -> None:
    """A script that expects the wrong thing of a real ticket is reported ✗, with what
    the bot actually did."""
    script = Script.model_validate(
        {
            "name": "rio skips, but the script expects a cancellation",
            "policy": "skip_next_shipment",
            "customer": {"email": "rio@example.com"},
            "turns": [
                {
                    "say": "skip my next shipment",
                    "expect": {
                        "replies_contain": ["has been skipped", "has been cancelled"],
                        "tool_calls": ["get_subscriptions", "cancel_subscription"],
                    },
                }
            ],
            "outcome": "cancelled",
            "side_effects": [{"platform": "skio", "operation": "skipSubscription", "count": 2}],
        }
    )
    result = await skipping_runner.run(script)
    assert not result.passed
    assert result.error is None
    failures = result.failures()
    assert failures[0].startswith(
        "turn 1 ('skip my next shipment'): ✗ reply contains “has been cancelled”: bot: "
        "The next shipment has been skipped"
    )
    assert failures[1:] == [
        "turn 1 ('skip my next shipment'): ✗ tools called: get_subscriptions, "
        "cancel_subscription: called: get_subscriptions, skip_next_shipment",
        "end: ✗ outcome cancelled: skipped",
        "end: ✗ side effect skio skipSubscription × 2: × 1",
    ]
    text = report(result)
    assert "FAIL rio skips, but the script expects a cancellation" in text
    assert "✓ reply contains “has been skipped”" in text
    assert "✗ outcome cancelled — got skipped" in text


async def test_a_turn_on_a_slow_helpdesk_ends_where_the_ticket_settles(
    time_skipping_env: WorkflowEnvironment, sandbox_url: str, sandbox: SandboxControl
) -> None:
    """On a helpdesk the bot's replies are in the transcript before the helpdesk has sent
    them, and the ticket's status settles after that: a turn played by signal waits for
    the ticket to settle, so the script reads the status the turn left (a saved Zendesk
    chat replayed by the publish gate is not refused for a stale `waiting_customer`)."""
    sandbox.reset()
    sandbox.fault("zendesk", latency_ms=600)
    script = Script.model_validate(
        {
            "name": "alex cancels 5001 on a slow Zendesk",
            "policy": "single_order_cancellation",
            "helpdesk": "zendesk",
            "customer": {"email": "alex@example.com", "name": "Alex Moreau"},
            "turns": [
                {"say": "Please cancel my order", "expect": {"status": "waiting_customer"}},
                {
                    "say": "order 5001",
                    "expect": {
                        "tool_calls": ["get_order_details", "cancel_order"],
                        "status": "resolved",
                    },
                },
            ],
            "outcome": "cancelled",
            "status": "resolved",
        }
    )
    try:
        async with serving_runner(
            time_skipping_env.client,
            sandbox_url,
            mode="signal",
            reset_sandbox=False,
            queue_prefix="slow-helpdesk",
        ) as runner:
            result = await runner.run(script)
        slowed = sandbox.faults_served("zendesk")["latency"]
    finally:
        sandbox.reset()
    assert slowed >= 2, "each reply went out through the slow Zendesk"
    assert result.passed, report(result)
