"""One way to reach Temporal, shared by the worker, the API and the CLI.

The embedded dev server needs nothing; a cluster or Temporal Cloud is a matter of
TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_TLS* / TEMPORAL_API_KEY. Every payload
goes through the encryption codec (workflows/payload_codec.py); a worker built on this client
uses the same data converter.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.service import TLSConfig

from ticketflow.settings import Settings
from workflows.payload_codec import data_converter


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    return settings.temporal_tls or bool(settings.temporal_api_key)


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        data_converter=data_converter(settings),
    )
