"""What a workflow run did, read from its history: the local activities it ran (each leaves
a `core_local_activity` marker), what each `read_message` found (its result, decoded), and
the patches it took (`core_patch` markers); and whether the history replays."""

from __future__ import annotations

import json
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.message_reading import READ_MESSAGE, MessageRead
from workflows.worker import WORKFLOWS, workflow_runner


async def _markers(handle: WorkflowHandle, name: str, field: str) -> list[dict[str, Any]]:
    found = []
    async for event in handle.fetch_history_events():
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == name:
                found.append(json.loads(marker.details[field].payloads[0].data))
    return found


async def local_activities(handle: WorkflowHandle) -> list[str]:
    """The activity types of the run's local activities, in history order."""
    return [data["activity_type"] for data in await _markers(handle, "core_local_activity", "data")]


async def readings(handle: WorkflowHandle, converter: DataConverter) -> list[MessageRead]:
    """What each `read_message` local activity answered (the reply, and the route and plan
    when the ticket routed), in history order."""
    found = []
    async for event in handle.fetch_history_events():
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name != "core_local_activity":
                continue
            if json.loads(marker.details["data"].payloads[0].data)["activity_type"] != READ_MESSAGE:
                continue
            payloads = marker.details["result"].payloads
            [read] = await converter.decode(payloads, [MessageRead])
            found.append(read)
    return found


def routes(read: list[MessageRead]) -> list[str]:
    """How each routing `read_message` routed (`policy_id`: the start's policy entered)."""
    return [r.route.how for r in read if r.route is not None]


async def patches(handle: WorkflowHandle) -> list[str]:
    """The ids of the `workflow.patched` branches the run took."""
    return [data["id"] for data in await _markers(handle, "core_patch", "patch-data")]


async def replays(env: WorkflowEnvironment, handle: WorkflowHandle) -> None:
    """The run's history replays on the current code, in the default sandbox (which
    re-imports the workflow modules) and in the worker's (which passes them through)."""
    history = await handle.fetch_history()
    for runner in (SandboxedWorkflowRunner(), workflow_runner()):
        replayer = Replayer(
            workflows=WORKFLOWS, data_converter=env.client.data_converter, workflow_runner=runner
        )
        await replayer.replay_workflow(history)
