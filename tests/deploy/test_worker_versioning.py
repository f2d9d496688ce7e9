"""Worker versioning behind settings: off by default; on, a ticket runs on the worker's
deployment version with the configured behavior (real dev server)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import VersioningBehavior as VersioningBehaviorProto
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from ticketflow.settings import Settings
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import Customer, CustomerMessage, TicketStart, ticket_workflow_id
from workflows.worker import build_worker, deployment_config, ticket_activities


def test_versioning_is_off_unless_a_deployment_is_named() -> None:
    assert deployment_config(Settings()) is None


def test_a_deployment_name_without_a_build_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="TICKETFLOW_WORKER_BUILD_ID"):
        Settings(worker_deployment_name="ticketflow")


async def _make_current(client: Client, deployment: str, build_id: str) -> None:
    """What an operator does after the new workers are up (`temporal worker deployment
    set-current-version`): wait for the version to register, then route new work to it."""
    for _ in range(200):
        try:
            described = await client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(
                    namespace=client.namespace, deployment_name=deployment
                )
            )
        except RPCError:
            await asyncio.sleep(0.1)
            continue
        builds = [
            v.deployment_version.build_id
            for v in described.worker_deployment_info.version_summaries
        ]
        if build_id in builds:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"version {build_id} of {deployment} never registered")
    # The server runs this as an update of its deployment workflow; on a busy machine it
    # can answer "cancelled" or "deadline exceeded", and the operator runs it again.
    for attempt in range(10):
        try:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace, deployment_name=deployment, build_id=build_id
                )
            )
            return
        except RPCError as err:
            if err.status not in _TRY_AGAIN or attempt == 9:
                raise
            await asyncio.sleep(0.5)


_TRY_AGAIN = {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE}


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        ("auto_upgrade", VersioningBehaviorProto.VERSIONING_BEHAVIOR_AUTO_UPGRADE),
        ("pinned", VersioningBehaviorProto.VERSIONING_BEHAVIOR_PINNED),
    ],
)
async def test_a_versioned_worker_runs_tickets_on_its_build(
    dev_env: WorkflowEnvironment,
    sandbox_settings: Settings,
    behavior: str,
    expected: int,
) -> None:
    deployment = f"ticketflow-{uuid.uuid4().hex[:8]}"
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    settings = sandbox_settings.model_copy(
        update={
            "temporal_address": dev_env.client.service_client.config.target_host,
            "task_queue": task_queue,
            "worker_deployment_name": deployment,
            "worker_build_id": "build-1",
            "worker_versioning_behavior": behavior,
        }
    )
    client = dev_env.client
    async with build_worker(client, settings, activities=ticket_activities(settings)):
        await _make_current(client, deployment, "build-1")
        external_id = uuid.uuid4().hex[:8]
        ticket_id = ticket_workflow_id("web", external_id)
        turn = await client.execute_update_with_start_workflow(
            TicketWorkflow.message,
            CustomerMessage(message_id="m1", text="where is my order 5001?"),
            start_workflow_operation=WithStartWorkflowOperation(
                TicketWorkflow.run,
                TicketStart(
                    helpdesk="web",
                    external_id=external_id,
                    customer=Customer(email="alex@example.com"),
                ),
                id=ticket_id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            ),
        )
        assert turn.replies, "the versioned worker answered the customer"
        described = await client.get_workflow_handle(ticket_id).describe()
        info = described.raw_description.workflow_execution_info.versioning_info
        assert info.deployment_version.deployment_name == deployment
        assert info.deployment_version.build_id == "build-1"
        assert info.behavior == expected
        await client.get_workflow_handle(ticket_id).terminate("test over")
