"""Record identifiers are stored only as keyed hashes (HMAC-SHA-256).

A plain hash of a medical record number can be reversed by hashing every
possible number; a keyed one cannot without the key, which lives outside
the graph: `CDSS_RECORD_ID_KEY`, or a random key created on first use in
`<CDSS_DATA_DIR>/record-id.key` (readable by its owner only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cdss.errors import ConfigError
from cdss.secret_files import publish_once
from cdss.settings import Settings

KEY_FILE = "record-id.key"
PREFIX = "RECORD:"


def record_id_key(settings: Settings) -> bytes:
    """The deployment's key: from the settings, else the key file, created if absent."""
    if settings.record_id_key:
        return settings.record_id_key.encode()
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        publish_once(path, secrets.token_hex(32))
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the record-id key {path}: {exc.strerror}") from None
    if len(key) < 32:
        raise ConfigError(f"the record-id key in {path} is too short; delete it to make a new one")
    return key.encode()


def hashed_record_id(record_id: str, key: bytes) -> str:
    """The node id a record is stored under: `RECORD:` and 32 hex digits of its keyed hash."""
    return PREFIX + hmac.new(key, record_id.encode(), hashlib.sha256).hexdigest()[:32]
