"""The catalog's tools as Temporal activities, derived from the registry, never written again.

One activity per `policies.catalog` entry, named after the tool. The workflow sends one
typed `ToolCall`: the platform (resolved once, by the workflow, from the policy's
platforms), the validated parameters, the idempotency key of a side effect and, on a
helpdesk, the ticket. The activity calls the entry's `operation` on that platform's
connector with the parameters as keyword arguments and returns the entry's typed result.

Every activity raises only the connectors' named errors (`named_errors`): an operation a
platform does not offer, or a side effect without an idempotency key, is `PlatformRejected`
(non-retryable); a platform outage stays retryable. Retry with
`workflows.activity_options.TOOL_RETRY`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, SerializeAsAny
from temporalio import activity

from activities.language_model import LanguageModel
from activities.liveness import heartbeating
from activities.platforms.base import PlatformConnector, PlatformRejected, named_errors
from activities.platforms.bigcommerce import BigCommerceConnector
from activities.platforms.carrier import StoreCarrier
from activities.platforms.easypost import EasyPostConnector
from activities.platforms.kustomer import KustomerConnector
from activities.platforms.roles import Store
from activities.platforms.salesforce import SalesforceConnector
from activities.platforms.shopify import ShopifyConnector
from activities.platforms.skio import SkioConnector
from activities.platforms.stayai import StayAiConnector
from activities.platforms.zendesk import ZendeskConnector
from policies.catalog import CATALOG, ToolSpec
from policies.platforms import PLATFORM_TITLES, resolve_platform
from policies.tool_models import MessageSent
from ticketflow.settings import Settings

P = TypeVar("P", bound=BaseModel)

#: The activity that writes an internal note on the ticket's helpdesk (not a policy tool).
INTERNAL_NOTE = "helpdesk_internal_note"

#: The connector of each platform, built from the setting of the same name.
CONNECTORS: dict[str, Callable[[Any], PlatformConnector]] = {
    "bigcommerce": BigCommerceConnector,
    "shopify": ShopifyConnector,
    "stayai": StayAiConnector,
    "skio": SkioConnector,
    "easypost": EasyPostConnector,
    "zendesk": ZendeskConnector,
    "kustomer": KustomerConnector,
    "salesforce": SalesforceConnector,
}


class ToolCall(BaseModel, Generic[P]):
    """One tool call, as the workflow sends it and the activity receives it."""

    tool: str
    platform: str | None
    params: SerializeAsAny[P]
    idempotency_key: str | None = None
    # On a helpdesk: the ticket (Zendesk), conversation (Kustomer) or case (Salesforce).
    ticket_id: str | None = None
    # For carrier tools: the store that holds the order.
    store: str | None = None
    # The policy whose step makes the call: an id for the activity's log lines.
    policy_id: str | None = None
    # Words a person wrote (an agent's reply): sent as they are, never rephrased.
    verbatim: bool = False


def ticket_tool_call(
    spec: ToolSpec,
    params: P,
    *,
    platforms: list[str],
    helpdesk: str,
    ticket_id: str | None,
    idempotency_key: str | None,
    policy_id: str | None = None,
) -> ToolCall[P]:
    """The call for one ticket's step, its platform resolved once: a role by the ticket's
    platforms (the entry policy's first), the helpdesk the one the ticket came from."""
    if spec.binds_to == "helpdesk":
        platform: str | None = helpdesk
    else:
        platform = resolve_platform(spec.binds_to, platforms)
    return ToolCall(
        tool=spec.name,
        platform=platform,
        params=params,
        idempotency_key=idempotency_key if spec.side_effect else None,
        ticket_id=ticket_id if spec.role == "helpdesk" else None,
        store=resolve_platform("store", platforms) if spec.role == "carrier" else None,
        policy_id=policy_id,
    )


class NoteCall(BaseModel):
    """An internal note agents see and the customer never does."""

    platform: str
    ticket_id: str
    body: str
    idempotency_key: str
    policy_id: str | None = None


class Platforms:
    """One pooled connector per platform, shared by every activity of the worker."""

    def __init__(self, settings: Settings) -> None:
        self.connectors = {
            name: build(getattr(settings, name)) for name, build in CONNECTORS.items()
        }
        #: Rephrases bot messages before they go out (TICKETFLOW_LLM_REPHRASE, off by
        #: default): the original text whenever the rephrasing changes a number or an id.
        self.rephraser = LanguageModel.from_settings(settings) if settings.llm_rephrase else None

    @property
    def easypost(self) -> EasyPostConnector:
        connector = self.connectors["easypost"]
        assert isinstance(connector, EasyPostConnector)
        return connector

    def operation(self, spec: ToolSpec, call: ToolCall[Any]) -> Callable[..., Awaitable[Any]]:
        """The connector method that carries out `call`, or `PlatformRejected` naming why."""
        target: object | None
        if spec.role == "carrier":
            store = self.connectors.get(call.store or "")
            target = StoreCarrier(store if isinstance(store, Store) else None, self.easypost)
        else:
            target = self.connectors.get(call.platform or "")
        method = getattr(target, spec.operation, None)
        if method is None:
            where = PLATFORM_TITLES.get(call.platform or "", call.platform)
            raise PlatformRejected(
                f"@{spec.name} is not available on {where or 'any platform of this policy'}",
                platform=call.platform or "ticketflow",
            )
        return method

    async def aclose(self) -> None:
        for connector in self.connectors.values():
            await connector.aclose()
        if self.rephraser is not None:
            await self.rephraser.aclose()


def tool_activity(spec: ToolSpec, platforms: Platforms) -> Callable[..., Awaitable[Any]]:
    """The activity for one catalog entry: typed by the entry's params and result."""

    async def run(call: ToolCall[Any]) -> BaseModel:
        method = platforms.operation(spec, call)
        params = call.params
        arguments = {name: getattr(params, name) for name in type(params).model_fields}
        if spec.side_effect:
            if not call.idempotency_key:
                raise PlatformRejected(
                    f"@{spec.name} changes data and needs an idempotency key",
                    platform="ticketflow",
                )
            arguments["idempotency_key"] = call.idempotency_key
        if spec.role == "helpdesk" and spec.side_effect:
            if not call.ticket_id:
                raise PlatformRejected(
                    f"@{spec.name} needs the ticket it answers", platform="ticketflow"
                )
            arguments["ticket_id"] = call.ticket_id
        if (
            spec.name == "send_async_message"
            and platforms.rephraser is not None
            and not call.verbatim
        ):
            arguments["message"] = await platforms.rephraser.rephrase(arguments["message"])
        result: BaseModel = await method(**arguments)
        return result

    run.__name__ = run.__qualname__ = spec.name
    run.__doc__ = spec.description
    run.__annotations__ = {"call": ToolCall[spec.params], "return": spec.result}  # type: ignore[name-defined]
    return activity.defn(name=spec.name)(heartbeating(named_errors(run)))


def internal_note_activity(platforms: Platforms) -> Callable[..., Awaitable[Any]]:
    async def helpdesk_internal_note(call: NoteCall) -> MessageSent:
        connector = platforms.connectors.get(call.platform)
        note = getattr(connector, "internal_note", None)
        if note is None:
            raise PlatformRejected(
                f"{call.platform} takes no internal notes", platform=call.platform
            )
        result: MessageSent = await note(call.ticket_id, call.body, call.idempotency_key)
        return result

    return activity.defn(name=INTERNAL_NOTE)(heartbeating(named_errors(helpdesk_internal_note)))


def tool_activities(platforms: Platforms) -> list[Callable[..., Awaitable[Any]]]:
    """Every tool of the catalog, plus the internal note, over one pool of connectors."""
    return [
        *(tool_activity(spec, platforms) for spec in CATALOG.values()),
        internal_note_activity(platforms),
    ]
