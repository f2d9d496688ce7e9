"""The payload codec on its own: round trip, key rotation, a missing key named, tampering
refused, plain payloads passed through, and the keyring settings (no Temporal needed)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.codec_keys import TEST_CODEC_KEYS, TEST_KEYRING, codec_converter
from ticketflow.devstack import codec_environment, ensure_dev_codec_keys
from ticketflow.settings import Settings
from workflows.payload_codec import (
    ENCODING,
    KEY_ID,
    CodecConfigError,
    EncryptionCodec,
    Keyring,
    PayloadDecryptionError,
    UnknownKeyError,
    data_converter,
    keyring_from_settings,
)
from workflows.ticket_models import Customer, TicketStart

SECRET = "alex.private@example.com"


def payload(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_round_trip_hides_the_data_and_names_the_key() -> None:
    codec = EncryptionCodec(TEST_KEYRING)
    original = [payload(), payload("second")]
    encoded = await codec.encode(original)
    for sealed in encoded:
        assert sealed.metadata["encoding"] == ENCODING
        assert sealed.metadata[KEY_ID] == b"test-current"
        assert SECRET.encode() not in sealed.SerializeToString()
    assert encoded[0].data != encoded[1].data
    assert await codec.decode(encoded) == original
    # never wrapped twice
    assert await codec.encode(encoded) == encoded


async def test_pydantic_models_round_trip_through_the_converter() -> None:
    converter = codec_converter()
    start = TicketStart(
        helpdesk="web", external_id="x1", customer=Customer(email=SECRET, name="Alex Doe")
    )
    (encoded,) = await converter.encode([start])
    assert SECRET.encode() not in encoded.SerializeToString()
    assert b"Alex Doe" not in encoded.SerializeToString()
    (decoded,) = await converter.decode([encoded], [TicketStart])
    assert decoded == start


async def test_rotation_old_payloads_still_decrypt_new_ones_use_the_current_key() -> None:
    old = Keyring.parse(Keyring.new_entry("2025-01"))
    (sealed_old,) = await EncryptionCodec(old).encode([payload()])
    rotated_text = Keyring.new_entry("2026-01") + "," + _entry(old, "2025-01")
    rotated = EncryptionCodec(Keyring.parse(rotated_text))
    assert await rotated.decode([sealed_old]) == [payload()]
    (sealed_new,) = await rotated.encode([payload()])
    assert sealed_new.metadata[KEY_ID] == b"2026-01"


async def test_a_key_missing_from_the_keyring_is_named() -> None:
    (sealed,) = await EncryptionCodec(Keyring.parse(Keyring.new_entry("retired-7"))).encode(
        [payload()]
    )
    with pytest.raises(UnknownKeyError, match="retired-7") as caught:
        await EncryptionCodec(TEST_KEYRING).decode([sealed])
    assert caught.value.key_id == "retired-7"


@pytest.mark.parametrize("where", ["data", "nonce", "key-id", "truncated"])
async def test_tampering_is_refused(where: str) -> None:
    codec = EncryptionCodec(TEST_KEYRING)
    (sealed,) = await codec.encode([payload()])
    data = bytearray(sealed.data)
    if where == "data":
        data[-1] ^= 1
    elif where == "nonce":
        data[0] ^= 1
    elif where == "truncated":
        data = data[:10]
    metadata = dict(sealed.metadata)
    if where == "key-id":  # relabelled to the other key of the ring
        metadata[KEY_ID] = b"test-previous"
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([Payload(metadata=metadata, data=bytes(data))])


async def test_plain_payloads_pass_through() -> None:
    """Histories recorded before encryption (the replay fixtures) still decode."""
    (plain,) = await pydantic_data_converter.encode(["hello"])
    assert await codec_converter().decode([plain], [str]) == ["hello"]


async def test_failure_messages_are_encoded() -> None:
    converter, failure = codec_converter(), Failure()
    await converter.encode_failure(RuntimeError(f"could not reach {SECRET}"), failure)
    assert SECRET.encode() not in failure.SerializeToString()
    assert SECRET in str(await converter.decode_failure(failure))


def _entry(keyring: Keyring, key_id: str) -> str:
    import base64

    return f"{key_id}:{base64.b64encode(keyring.keys[key_id]).decode()}"


def test_keyring_parse_errors_never_echo_keys() -> None:
    for bad, words in [
        ("", "empty"),
        ("nokey", "id:base64key"),
        ("a:!!!", "not valid base64"),
        ("a:" + "QUJD", "3 bytes"),
        ("bad id:" + "A" * 44, "key id"),
        (Keyring.new_entry("a") + "," + Keyring.new_entry("a"), "twice"),
    ]:
        with pytest.raises(CodecConfigError, match=words) as caught:
            Keyring.parse(bad)
        assert bad.partition(":")[2][:8] not in str(caught.value) or not bad.partition(":")[2]
    url_safe = Keyring.new_entry("u").replace("+", "-").replace("/", "_")
    assert Keyring.parse(url_safe).current == "u"


def test_settings_policy_without_keys(tmp_path: Path) -> None:
    with pytest.raises(CodecConfigError, match="TICKETFLOW_CODEC=off"):
        keyring_from_settings(Settings(codec_keys=None))
    assert data_converter(Settings(codec="off")) is pydantic_data_converter
    keys_file = tmp_path / "keys"
    keys_file.write_text(Keyring.new_entry("from-file") + "\n")
    assert keyring_from_settings(Settings(codec_keys=None, codec_keys_file=keys_file)) is not None
    from_env = keyring_from_settings(Settings(codec_keys=SecretStr(TEST_CODEC_KEYS)))
    assert from_env is not None and from_env.current == "test-current"
    with pytest.raises(CodecConfigError, match="cannot read"):
        keyring_from_settings(Settings(codec_keys=None, codec_keys_file=tmp_path / "nope"))


def test_dev_stack_makes_one_key_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, codec_keys=None, codec_keys_file=None)
    first = ensure_dev_codec_keys(settings)
    path = tmp_path / "codec-keys"
    assert first.codec_keys_file == path.resolve()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert Keyring.parse(text).current.startswith("dev-")
    again = ensure_dev_codec_keys(settings)
    assert path.read_text() == text and again.codec_keys_file == first.codec_keys_file
    env = codec_environment(first)
    assert env == {
        "TICKETFLOW_CODEC_UI_WITHOUT_KEY": "true",
        "TICKETFLOW_CODEC_KEYS_FILE": str(path.resolve()),
    }
    # explicit keys win; no file is made
    explicit = Settings(state_dir=tmp_path / "other", codec_keys=SecretStr(TEST_CODEC_KEYS))
    assert ensure_dev_codec_keys(explicit) is explicit
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("command", ["worker", "api"])
def test_worker_and_api_refuse_to_start_without_keys(command: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETFLOW_CODEC")}
    result = subprocess.run(
        [sys.executable, "-m", "ticketflow", command],
        env={**env, "TEMPORAL_ADDRESS": "127.0.0.1:1"},  # never reached
        cwd=tmp_path,  # no .env
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "TICKETFLOW_CODEC_KEYS" in result.stderr and "TICKETFLOW_CODEC=off" in result.stderr
