"""Record text sealed at rest: AES-GCM under a data key from a keyring kept apart from the graph.

A copy of the graph alone then reveals no record text. A token names the key that sealed it, so the key
can be rotated (`cdss keys rotate-data-key`) while older tokens stay readable until they are resealed. The
record's node id is the associated data: a token moved to another record does not open.

Keyring file (mode 0600): `{"active": "k2", "keys": {"k2": "<base64 of 32 bytes>"}}`.
Token: `aesgcm1:<key id>:<base64 nonce>:<base64 ciphertext and tag>`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdss.batching import batched
from cdss.errors import ConfigError, CryptoError
from cdss.secret_files import publish_once, staged_file
from cdss.types import Concept, NodeLabel

SCHEME = "aesgcm1"
SEALED_TEXT = "text_sealed"
"""The Record attribute that holds the sealed text."""
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MINTED_ID = re.compile(r"k(\d+)")


@dataclass(frozen=True, slots=True)
class DataKeyring:
    """The data keys by id, and the id of the one that seals new text."""

    path: Path
    active: str
    keys: Mapping[str, bytes] = field(repr=False)


class RecordStore(Protocol):
    """What rotation needs of a graph store; `kg.GraphStore` has it (cdss, the shared leaf, imports no kg)."""

    def iter_nodes(self, *, label: NodeLabel | None = None) -> Iterator[Concept]: ...

    def get_nodes(self, ids: Sequence[str]) -> dict[str, Concept]: ...

    def upsert_nodes(self, nodes: Iterable[Concept]) -> int: ...


def load_keyring(path: Path) -> DataKeyring:
    """The keyring at `path`, created with one fresh key on first use."""
    if not path.exists():
        publish_once(path, _keyring_text({"k1": secrets.token_bytes(KEY_BYTES)}, active="k1"))
    return _read_keyring(path)


def seal(text: str, *, keyring: DataKeyring, aad: str) -> str:
    """`text` sealed with the active key and bound to `aad`, the record's node id."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keyring.keys[keyring.active]).encrypt(nonce, text.encode(), aad.encode())
    return ":".join((SCHEME, keyring.active, _b64(nonce), _b64(sealed)))


def unseal(token: str, *, keyring: DataKeyring, aad: str) -> str:
    """The text `seal` sealed for the record `aad`; names the key and the record when it cannot."""
    key_id, nonce, sealed = _parse_token(token, aad)
    key = keyring.keys.get(key_id)
    if key is None:
        raise CryptoError(
            f"record {aad} was sealed with data key {key_id!r}, which the keyring {keyring.path} lacks "
            f"(it holds {', '.join(sorted(keyring.keys))})"
        )
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad.encode()).decode()
    except InvalidTag:
        raise CryptoError(
            f"cannot unseal the text of record {aad} with data key {key_id!r}: wrong data key or altered text"
        ) from None


def rotate_data_key(store: RecordStore, *, keyring_path: Path, batch_size: int = 1000) -> dict[str, int | str]:
    """Reseal every record's text under a new key, then drop the old keys.

    Every token is opened before anything is written, so a keyring that cannot read the data changes
    nothing. Old and new keys stay in the keyring until every record is resealed, so a run that dies midway
    is finished by the next. Stop ingesting meanwhile: text sealed with a dropped key is lost.
    """
    old = _read_keyring(keyring_path)
    new_id = _next_key_id(old.keys)
    records, stale = _stale_records(store, old, target=new_id)
    keyring = replace(old, active=new_id, keys={**old.keys, new_id: secrets.token_bytes(KEY_BYTES)})
    _save(keyring)
    resealed = 0
    while stale:
        resealed += _reseal(store, stale, keyring, batch_size)
        # Another pass finds text sealed with an old key while this one ran.
        records, stale = _stale_records(store, keyring, target=new_id)
    _save(replace(keyring, keys={new_id: keyring.keys[new_id]}))
    return {"records": records, "resealed": resealed, "old_keys_dropped": len(old.keys), "active": new_id}


def _stale_records(store: RecordStore, keyring: DataKeyring, *, target: str) -> tuple[int, list[str]]:
    """How many records there are, and the ids of those sealed with a key other than `target`; opens every
    token on the way, so one that cannot be opened is found before anything is written."""
    records, stale = 0, []
    for node in store.iter_nodes(label=NodeLabel.RECORD):
        records += 1
        token = node.attributes.get(SEALED_TEXT)
        if token is None:
            continue
        unseal(token, keyring=keyring, aad=node.id)
        if token.split(":")[1] != target:
            stale.append(node.id)
    return records, stale


def _reseal(store: RecordStore, ids: list[str], keyring: DataKeyring, batch_size: int) -> int:
    """Seal the text of the records `ids` again with the active key, a batch per write; returns how many."""
    resealed = 0
    for batch in batched(ids, batch_size):
        nodes = []
        for node in store.get_nodes(batch).values():
            text = unseal(node.attributes[SEALED_TEXT], keyring=keyring, aad=node.id)
            attributes = {**node.attributes, SEALED_TEXT: seal(text, keyring=keyring, aad=node.id)}
            nodes.append(replace(node, attributes=attributes))
        resealed += store.upsert_nodes(nodes)
    return resealed


def _parse_token(token: object, aad: str) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) of a token; errors name the record, never the token's content."""
    parts = token.split(":") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != SCHEME or not _KEY_ID.fullmatch(parts[1]):
        raise _malformed(aad, f"expected {SCHEME}:<key id>:<nonce>:<ciphertext>")
    try:
        nonce, sealed = base64.b64decode(parts[2], validate=True), base64.b64decode(parts[3], validate=True)
    except binascii.Error:
        raise _malformed(aad, "its nonce or ciphertext is not base64") from None
    if len(nonce) != NONCE_BYTES:
        raise _malformed(aad, f"its nonce is not {NONCE_BYTES} bytes")
    return parts[1], nonce, sealed


def _malformed(aad: str, reason: str) -> CryptoError:
    return CryptoError(f"the sealed text of record {aad} is malformed: {reason}")


def _read_keyring(path: Path) -> DataKeyring:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no data keyring at {path}: record text sealed without one cannot be read") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the data keyring {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"the data keyring {path} is not JSON: {exc}") from None
    stored = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(stored, dict) or not isinstance(data.get("active"), str) or data["active"] not in stored:
        raise ConfigError(f"the data keyring {path} needs an 'active' key id and the 'keys' by id")
    keys = {key_id: _decode_key(key_id, encoded, path) for key_id, encoded in stored.items()}
    return DataKeyring(path=path, active=data["active"], keys=keys)


def _decode_key(key_id: str, encoded: object, path: Path) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
    except binascii.Error:
        key = b""
    if len(key) != KEY_BYTES or not _KEY_ID.fullmatch(key_id):
        raise ConfigError(f"data key {key_id!r} in {path} is not a short id and the base64 of {KEY_BYTES} bytes")
    return key


def _save(keyring: DataKeyring) -> None:
    """Replace the keyring file in one step, so a crash leaves the old file or the new, never half of one."""
    staged = staged_file(keyring.path, _keyring_text(keyring.keys, active=keyring.active))
    try:
        os.replace(staged, keyring.path)
    except OSError:
        staged.unlink()
        raise


def _keyring_text(keys: Mapping[str, bytes], *, active: str) -> str:
    return json.dumps({"active": active, "keys": {k: _b64(v) for k, v in keys.items()}}, indent=2)


def _next_key_id(key_ids: Iterable[str]) -> str:
    minted = [int(match.group(1)) for key_id in key_ids if (match := _MINTED_ID.fullmatch(key_id))]
    return f"k{max(minted, default=0) + 1}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
