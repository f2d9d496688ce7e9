"""Schemathesis over the served OpenAPI document: no input makes the API answer 5xx, and
answers match the documented schemas.

Kept small: 10 examples per operation, no stateful phase. POST /tickets and POST
/tickets/{id}/messages are left out because every example would start a ticket workflow
(they have their own tests); webhooks are in (unsigned examples must get 401/413/422,
never 500). The API runs on a namespace of its own, so the tickets other tests left on the
shared dev server (on task queues nobody polls any more) are not in its lists.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ticketflow.settings import Settings
from workflows import search_attributes as sa

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


@pytest_asyncio.fixture(loop_scope="session")
async def namespace(dev_env: WorkflowEnvironment) -> str:
    name = f"openapi-{uuid.uuid4().hex[:8]}"
    service = dev_env.client.workflow_service
    await service.register_namespace(
        RegisterNamespaceRequest(
            namespace=name, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    await dev_env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=name,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in sa.ALL_KEYS
            },
        )
    )
    client = await Client.connect(dev_env.client.service_client.config.target_host, namespace=name)
    for _ in range(100):  # the frontend's namespace cache catches up within seconds
        try:
            [w async for w in client.list_workflows('TicketStatus = "open"', limit=1)]
            break
        except Exception:
            await asyncio.sleep(0.2)
    return name


@pytest.fixture
def dev_settings(dev_env: WorkflowEnvironment, task_queue: str, namespace: str) -> Settings:
    return Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        temporal_namespace=namespace,
        task_queue=task_queue,
    )


async def test_no_server_errors_and_documented_responses(api_url: str, api_key: str) -> None:
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "run",
        f"{api_url}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-deterministic",
        "--header",
        f"Authorization: Bearer {api_key}",
        "--exclude-operation-id",
        "create_ticket_tickets_post",
        "--exclude-operation-id",
        "post_message_tickets__ticket_id__messages_post",
        # Deleting would take library policies from the database the other tests share
        # (tests/api/test_policy_versions_http.py covers it).
        "--exclude-operation-id",
        "delete_policy_policies__policy_id__delete",
        "--request-timeout",
        "10",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts and int(counts[1]) > 100 and counts[1] == counts[2], report[-3000:]
