"""The test suite's payload-encryption keyring, passed explicitly to every Temporal server,
client, worker and replayer the tests make, and exported as TICKETFLOW_CODEC_KEYS (by
tests/conftest.py) so the settings and the processes the tests start use it too.

Test-only keys, public by design: never configure them anywhere else.
"""

from __future__ import annotations

from temporalio.converter import DataConverter

from workflows.payload_codec import Keyring, encrypted_converter

TEST_CODEC_KEYS = (
    "test-current:A1IV/dLQTWi2i0cVh/TlUzzMftiyF+OdCXsFhHeLFpc=,"
    "test-previous:4KeF3TPfWuXFTpovMFSn91OhdLxVb2Dy8puFLimgUjY="
)
TEST_KEYRING = Keyring.parse(TEST_CODEC_KEYS)


def codec_converter() -> DataConverter:
    return encrypted_converter(TEST_KEYRING)
