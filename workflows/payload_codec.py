"""Payload encryption: every Temporal payload AES-256-GCM encrypted before it leaves the
process (workflow/child/activity inputs and results, signals, updates, queries, memo,
failure details and, with `DefaultFailureConverterWithEncodedAttributes`, failure messages
and stack traces).

A keyring holds the current key and any previous ones, each under an id. New payloads are
encrypted with the current key and carry its id in their metadata
(`encryption-key-id`), with `encoding: binary/encrypted`; old payloads decrypt with
whichever key their id names, so keys rotate by putting a new key first and keeping the old
ones until no open ticket's history needs them. A payload without the encrypted encoding
(histories recorded before encryption, the replay tests' fixtures) passes through as it is.

The keyring comes from settings (`TICKETFLOW_CODEC_KEYS`, or a file named by
`TICKETFLOW_CODEC_KEYS_FILE`) as `id:base64key,id2:base64key`, the first one current; each
key is 32 random bytes, base64. `ticketflow dev` makes one in its state directory. Without
keys a process refuses to start unless `TICKETFLOW_CODEC=off` says plain payloads are
intended.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from ticketflow.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class CodecConfigError(ValueError):
    """The keyring settings are missing or malformed (never echoes key material)."""


class PayloadDecryptionError(ValueError):
    """A payload that cannot be decrypted: its key is not in the keyring, or it was altered."""


class UnknownKeyError(PayloadDecryptionError):
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            f"payload is encrypted with key id {key_id!r}, which is not in the keyring "
            "(add it to TICKETFLOW_CODEC_KEYS as a previous key)"
        )


@dataclass(frozen=True)
class Keyring:
    """The current key id and every key by id (the current one included)."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise CodecConfigError(f"the current key id {self.current!r} has no key")
        for key_id, key in self.keys.items():
            if not _KEY_ID_PATTERN.fullmatch(key_id):
                raise CodecConfigError(
                    f"key id {key_id!r}: use 1-64 letters, digits, '.', '_' or '-'"
                )
            if len(key) != KEY_BYTES:
                raise CodecConfigError(
                    f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """`id:base64key,id2:base64key` (commas or newlines between entries), first current."""
        entries = [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]
        if not entries:
            raise CodecConfigError("the keyring is empty")
        keys: dict[str, bytes] = {}
        for entry in entries:
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not sep or not key_id:
                raise CodecConfigError("each keyring entry is `id:base64key`")
            if key_id in keys:
                raise CodecConfigError(f"key id {key_id!r} appears twice in the keyring")
            try:  # standard or URL-safe alphabet
                keys[key_id] = base64.b64decode(encoded.strip(), altchars=b"-_", validate=True)
            except (binascii.Error, ValueError):
                raise CodecConfigError(f"key {key_id!r} is not valid base64") from None
        return cls(current=entries[0].partition(":")[0].strip(), keys=keys)

    @staticmethod
    def new_entry(key_id: str) -> str:
        """A fresh `id:base64key` entry with 32 random bytes."""
        return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"

    @classmethod
    def ephemeral(cls) -> Keyring:
        """One random key that lives as long as the process (for throwaway servers)."""
        return cls.parse(cls.new_entry("ephemeral"))


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each serialized payload; the key id is also the associated data, so
    a payload relabelled with another key id fails authentication."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already encrypted: never wrap twice
        key_id = self.keyring.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # recorded before encryption, or never encrypted
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(key_id)
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except (InvalidTag, ValueError):
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r} failed authentication "
                "(altered, truncated or encrypted with another key of that id)"
            ) from None
        decoded = Payload()
        try:
            decoded.ParseFromString(plain)
        except Exception:  # protobuf's DecodeError; authenticated, so only a bug gets here
            raise PayloadDecryptionError(
                f"payload under key id {key_id!r} decrypted to no valid payload"
            ) from None
        return decoded


def encrypted_converter(keyring: Keyring) -> DataConverter:
    """The pydantic data converter with the codec, failure messages encoded too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def keyring_from_settings(settings: Settings) -> Keyring | None:
    """The configured keyring, None when encryption is off; CodecConfigError when it is on
    and no keys are configured."""
    if settings.codec == "off":
        return None
    if settings.codec_keys is not None and settings.codec_keys.get_secret_value().strip():
        return Keyring.parse(settings.codec_keys.get_secret_value())
    if settings.codec_keys_file is not None:
        try:
            text = settings.codec_keys_file.read_text()
        except OSError as err:
            raise CodecConfigError(
                f"cannot read TICKETFLOW_CODEC_KEYS_FILE {settings.codec_keys_file}: {err.strerror}"
            ) from None
        return Keyring.parse(text)
    raise CodecConfigError(
        "payload encryption has no keys: set TICKETFLOW_CODEC_KEYS (`id:base64key`, "
        "32 random bytes; `ticketflow dev` makes one in its state directory) or "
        "TICKETFLOW_CODEC_KEYS_FILE, or set TICKETFLOW_CODEC=off to keep Temporal payloads "
        "in plain text"
    )


def data_converter(settings: Settings) -> DataConverter:
    """What every client and worker of this deployment uses."""
    keyring = keyring_from_settings(settings)
    return pydantic_data_converter if keyring is None else encrypted_converter(keyring)
