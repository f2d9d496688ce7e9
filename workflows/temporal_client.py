"""One way to reach Temporal, shared by the worker, the API and the CLI.

The embedded dev server needs nothing; a cluster or Temporal Cloud is a matter of
TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_TLS* / TEMPORAL_API_KEY. Every payload
goes through the encryption codec (workflows/payload_codec.py); a worker built on this client
uses the same data converter.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from ticketflow.settings import Settings
from workflows.payload_codec import data_converter
from workflows.tracing import tracing_interceptor


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    return settings.temporal_tls or bool(settings.temporal_api_key)


async def connect_temporal(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client with the payload codec and, when tracing is on (workflows/tracing.py),
    Temporal's tracing interceptor, which a worker built on it takes too; `runtime` carries
    the SDK's own metrics (the worker's, ``workflows/worker.py``)."""
    tracing = tracing_interceptor()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        data_converter=data_converter(settings),
        interceptors=[tracing] if tracing is not None else [],
        runtime=runtime,
    )


class MissingSearchAttributes(RuntimeError):
    """The namespace lacks search attributes the ticket workflows set (their tasks would fail)."""


async def ensure_search_attributes(client: Client, *, create: bool) -> list[str]:
    """Check that the namespace has every custom search attribute the workflows set; with
    `create`, register the missing ones (the dev server only registers its
    `--search-attribute` flags when it creates the namespace, so a state file from an older
    version lacks newer attributes). Returns the names it registered."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    from workflows import search_attributes as sa

    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = [key.name for key in sa.ALL_KEYS if key.name not in listed.custom_attributes]
    if not missing:
        return []
    if not create:
        flags = " ".join(f"--name {name} --type Keyword" for name in missing)
        raise MissingSearchAttributes(
            f"namespace {client.namespace!r} lacks the search attributes {', '.join(missing)}; "
            f"register them first: temporal operator search-attribute create "
            f"--namespace {client.namespace} {flags}"
        )
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing
            },
        )
    )
    return missing
