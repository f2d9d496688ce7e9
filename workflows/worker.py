"""The ticketflow worker: ticket workflows and every activity they call."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.claims import ClaimActivities
from activities.customer_key import CustomerKeys
from activities.language_model import LanguageModel
from activities.log_context import LogContext
from activities.message_reading import MessageReading
from activities.metrics import ActivityMetrics
from activities.outcomes import OutcomeActivities
from activities.policy_store import PolicyActivities
from activities.policy_versions import PolicyVersions
from activities.tools import Platforms, tool_activities
from activities.understanding import UnderstandingActivities
from ticketflow.settings import Settings
from workflows.claim import CarrierClaimWorkflow
from workflows.claim_sweep import ClaimSweepWorkflow
from workflows.payload_codec import CodecConfigError
from workflows.temporal_client import (
    MissingSearchAttributes,
    connect_temporal,
    ensure_search_attributes,
)
from workflows.ticket import TicketWorkflow
from workflows.ticket_counts import TicketCounts
from workflows.tracing import start_tracing
from workflows.worker_metrics import WorkerMetrics

log = logging.getLogger("ticketflow.worker")

WORKFLOWS: list[type] = [TicketWorkflow, CarrierClaimWorkflow, ClaimSweepWorkflow]

#: Modules the workflow sandbox takes from the worker instead of importing again for every
#: workflow instance it builds (a new ticket, or an evicted one replayed): the workflow
#: modules themselves (everything they import is passed through already) and the pure
#: layers below them. They hold no state a run could leak into another run.
PASSTHROUGH_MODULES = ("workflows", "activities", "policies", "ticketflow.settings")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox with the project's modules passed through: an evicted ticket's replay
    stopped compiling and executing workflows/ticket.py (about 8 ms of its ~45 ms replay
    with a bytecode cache, a quarter of it without). The sandbox's other guards stay (the
    restricted builtins and standard-library calls for modules it imports); the tests run
    the default sandbox, which also re-imports the workflow modules, so a non-deterministic
    call in workflow code still fails there."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def ticket_activities(
    settings: Settings,
    policies: PolicyActivities | None = None,
    customer_keys: CustomerKeys | None = None,
) -> list[Callable[..., Any]]:
    """Everything a ticket calls: policy loading, reply understanding, the customer key
    (`read_message`: the three in one, per customer message), platform tools, the outcome
    row (in the policy store's database; none without one)."""
    connectors = Platforms(settings)
    policy_store = policies or PolicyActivities()
    policy_store.warm()  # the routing model loads once per worker, before the first ticket
    # The optional language model (off unless TICKETFLOW_LLM_BASE_URL is set): a second
    # opinion where routing or reply understanding is unsure.
    model = LanguageModel.from_settings(settings)
    if policy_store.model is None:
        policy_store.model = model
    understanding = UnderstandingActivities(model)
    keys = customer_keys or CustomerKeys.from_settings(settings)
    store = policy_store.versions.engine if policy_store.versions is not None else None
    return [
        keys.customer_key,
        policy_store.route_ticket,
        policy_store.load_policy,
        policy_store.enter_policy,
        MessageReading(understanding, policy_store, keys).read_message,
        OutcomeActivities(store).record_outcome,
        understanding.understand_reply,
        *tool_activities(connectors),
        *ClaimActivities(connectors.easypost).activities(),
    ]


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """Worker versioning from the settings, or None (unversioned, as in dev and tests)."""
    if not settings.worker_deployment_name:
        return None
    assert settings.worker_build_id  # Settings refuses a deployment name without one
    behavior = {
        "auto_upgrade": VersioningBehavior.AUTO_UPGRADE,
        "pinned": VersioningBehavior.PINNED,
    }[settings.worker_versioning_behavior]
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=settings.worker_deployment_name,
            build_id=settings.worker_build_id,
        ),
        use_worker_versioning=True,
        default_versioning_behavior=behavior,
    )


def build_worker(
    client: Client,
    settings: Settings,
    *,
    activities: list[Callable[..., Any]] | None = None,
) -> Worker:
    if settings.codec != "off" and client.data_converter.payload_codec is None:
        raise CodecConfigError(
            "payload encryption is on but this worker's Temporal client has no payload codec "
            "(connect with workflows.temporal_client.connect_temporal)"
        )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=activities if activities is not None else ticket_activities(settings),
        # Activity log lines carry the ticket, run and policy ids; the ticketflow_*
        # metrics count tickets, tool calls and understanding (a client's tracing
        # interceptor, when tracing is on, comes with the client).
        interceptors=[LogContext(), ActivityMetrics(), TicketCounts()],
        deployment_config=deployment_config(settings),
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM. Logging is configured by the caller (the composition root,
    ``ticketflow.logs.configure_logging``)."""
    # Temporal's sandbox re-imports the workflow modules for every ticket it builds or
    # replays; without cached bytecode (PYTHONDONTWRITEBYTECODE) each import recompiles
    # them, a third of the worker's time in the open-tickets benchmark.
    sys.dont_write_bytecode = False
    settings.require_credentials()
    start_tracing("ticketflow-worker")
    metrics = WorkerMetrics(settings)
    client = await connect_temporal(settings, runtime=metrics.runtime)
    try:
        await ensure_search_attributes(client, create=False)
    except MissingSearchAttributes as err:
        raise SystemExit(f"worker not started: {err}") from None
    except RPCError as err:  # e.g. a key without operator rights: the tasks will tell
        log.warning("could not list the namespace's search attributes: %s", err.message)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Plans come from the policy store in the app database (by the version the ticket's
    # start names, or as published now), the bundled library where the store has none.
    policies = PolicyActivities(versions=PolicyVersions.from_url(settings.app_database_url))
    activities = ticket_activities(settings, policies=policies)
    async with build_worker(client, settings, activities=activities):
        # `ticketflow dev` waits for this exact line before it calls the worker ready.
        log.info(
            "worker ready on task queue %s",
            settings.task_queue,
            extra={
                "deployment": settings.worker_deployment_name,
                "build_id": settings.worker_build_id,
            },
        )
        await stop.wait()
        log.info("worker stopping")
    metrics.close()
