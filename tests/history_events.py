"""What a workflow run did, read from its history: the local activities it ran (each leaves
a `core_local_activity` marker) and the patches it took (`core_patch` markers)."""

from __future__ import annotations

import json
from typing import Any

from temporalio.client import WorkflowHandle


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


async def patches(handle: WorkflowHandle) -> list[str]:
    """The ids of the `workflow.patched` branches the run took."""
    return [data["id"] for data in await _markers(handle, "core_patch", "patch-data")]
