"""The worker refuses a namespace without ticketflow's search attributes (naming the missing
ones and the command that registers them); the dev stack registers what an older state file
lacks (CustomerKey, say)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from workflows import search_attributes as sa
from workflows.temporal_client import MissingSearchAttributes, ensure_search_attributes


async def test_missing_attributes_are_named_or_registered(dev_env: WorkflowEnvironment) -> None:
    name = f"bare-{uuid.uuid4().hex[:8]}"
    await dev_env.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=name, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    client = await Client.connect(dev_env.client.service_client.config.target_host, namespace=name)
    for _ in range(100):  # the frontend's namespace cache catches up within seconds
        try:
            with pytest.raises(MissingSearchAttributes) as refused:
                await ensure_search_attributes(client, create=False)
            break
        except Exception:
            await asyncio.sleep(0.2)
    message = str(refused.value)
    assert "CustomerKey" in message and "temporal operator search-attribute create" in message

    added = await ensure_search_attributes(client, create=True)
    assert set(added) == {key.name for key in sa.ALL_KEYS}
    for _ in range(50):
        if await ensure_search_attributes(client, create=False) == []:
            break
        await asyncio.sleep(0.2)
    assert await ensure_search_attributes(client, create=True) == []
