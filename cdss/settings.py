"""Settings, read from `CDSS_*` environment variables here and nowhere else.

Nothing is read at import time: callers ask for `load_settings()` when they
need it, so tests and tools can pass their own environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import ConfigError

PREFIX = "CDSS_"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Run-time configuration. Every field has a `CDSS_<FIELD>` variable."""

    data_dir: Path
    """Where the graph and fetched sources live (`CDSS_DATA_DIR`)."""
    store: str
    """Graph store URL (`CDSS_STORE`): `sqlite:///path/graph.sqlite` or a path."""
    sources_dir: Path
    """Where `cdss data fetch` puts source files and `cdss kg build` reads them."""
    sources_mirror: Path | None
    """A local mirror to fetch from instead of the internet (`CDSS_SOURCES_MIRROR`)."""
    batch_size: int
    """Rows per write batch for store upserts (`CDSS_BATCH_SIZE`)."""
    progress: bool | None
    """Force progress bars on (1) or off (0); unset shows them on a terminal only."""
    log_level: str
    """Python logging level name (`CDSS_LOG_LEVEL`)."""
    ner_model: Path | None
    """A model saved by `cdss nlp train` (`CDSS_NER_MODEL`; default <data_dir>/models/ner, used when present)."""
    scispacy_model: str | None
    """An installed scispaCy NER package to add to the pipeline, e.g. en_ner_bc5cdr_md (`CDSS_SCISPACY_MODEL`)."""
    max_text_chars: int
    """The longest record text the NLP pipeline accepts (`CDSS_MAX_TEXT_CHARS`)."""
    store_record_text: bool
    """Keep ingested record text in the graph, de-identified and sealed (`CDSS_STORE_RECORD_TEXT`; off by default)."""
    record_id_key: str | None
    """Secret for hashing record ids (`CDSS_RECORD_ID_KEY`); else a key file in the data folder."""
    prior_common: float
    """Prior odds of a common disease (DO, ICD-10-CM) relative to a rare one (OMIM/ORPHA) (`CDSS_PRIOR_COMMON`)."""
    prior_ddxplus: float
    """Prior odds of a DDXPlus condition (frequent in primary and emergency care) relative to a rare disease."""
    gnn_model: Path
    """The link model `cdss gnn train` saves and the ranking uses when present (`CDSS_GNN_MODEL`)."""
    api_keys: Path
    """The API key database, hashes only (`CDSS_API_KEYS`; default <data_dir>/api_keys.sqlite)."""
    audit_log: Path
    """JSON-lines audit log of API calls (`CDSS_AUDIT_LOG`; default <data_dir>/audit.jsonl)."""
    audit_max_bytes: int
    """Size past which the live audit log is moved aside as segment `<log>.<n>` (`CDSS_AUDIT_MAX_BYTES`; 0: never)."""
    audit_keep: int
    """Rotated audit segments kept; older ones are deleted, recorded in the head (`CDSS_AUDIT_KEEP`; 0: all)."""
    data_key_file: Path
    """Keys sealing stored record text, kept apart from the graph (`CDSS_DATA_KEY_FILE`; <data_dir>/data-keys.json)."""
    rate_limit: int
    """Requests per minute per API key, shared by the workers of a host, or of every replica with Redis
    (`CDSS_RATE_LIMIT`)."""
    rate_limits_db: Path
    """The buckets the workers share (`CDSS_RATE_LIMITS_DB`; default <data_dir>/rate_limits.sqlite)."""
    redis_url: str | None = None
    """Keep the buckets in Redis instead, shared by replicas on any host (`CDSS_REDIS_URL`, e.g.
    redis://localhost:6379/0); unset: the SQLite file above."""
    max_request_bytes: int
    """The largest request body the API accepts (`CDSS_MAX_REQUEST_BYTES`, 1 MB)."""
    max_image_bytes: int
    """The largest body of a request that may carry images (`CDSS_MAX_IMAGE_BYTES`, 16 MB)."""
    cors_origins: tuple[str, ...]
    """Origins allowed cross-site (`CDSS_CORS_ORIGINS`, comma-separated); none by default."""
    api_nlp: bool
    """Load the NLP pipeline in the API so records may carry text (`CDSS_API_NLP`, on by default)."""
    neo4j_user: str | None
    """Neo4j user (`NEO4J_USER`: the driver's own convention, shared with docker-compose)."""
    neo4j_password: str | None
    """Neo4j password (`NEO4J_PASSWORD`)."""
    neo4j_database: str | None
    """Neo4j database (`NEO4J_DATABASE`; the server's default when unset)."""
    cds_hooks_jwt_secret: str | None = None
    """Shared secret for HS256 JWTs from a CDS Hooks client (`CDSS_CDS_HOOKS_JWT_SECRET`); unset: API keys only."""
    cds_hooks_issuers: tuple[str, ...] = ()
    """The JWT issuers accepted (`CDSS_CDS_HOOKS_ISSUERS`, comma-separated); empty: any issuer with the secret."""
    deid_mode: str | None
    """How stored text is de-identified before it touches the disk (`CDSS_DEID_MODE`: surrogates, tags, or off)."""
    feedback_db: Path
    """Answers kept for feedback, and the feedback (`CDSS_FEEDBACK_DB`; default <data_dir>/feedback.sqlite)."""
    learned_dir: Path
    """Knowledge updates learned from feedback, every version kept (`CDSS_LEARNED_DIR`; <data_dir>/learned)."""


def _default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cdss"


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    return int(_number(env, name, default, minimum=minimum, parse=int, kind="an integer"))


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    return _number(env, name, default, minimum=minimum, parse=float, kind="a finite number")


def _number(
    env: Mapping[str, str], name: str, default: float, *, minimum: float, parse: Callable[[str], float], kind: str
) -> float:
    """A numeric setting, or `default` when unset; one not `kind`, not finite or below `minimum` is refused."""
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not {kind}") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{PREFIX}{name}={raw} must be {kind} of at least {minimum}")
    return value


def _tristate(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{name}={raw!r} must be 1/0, true/false, yes/no or on/off")


_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get(PREFIX + "DATA_DIR") or _default_data_dir(env)).expanduser()
    store = env.get(PREFIX + "STORE") or f"sqlite://{(data_dir / 'graph.sqlite').absolute()}"
    sources_dir = Path(env.get(PREFIX + "SOURCES_DIR") or data_dir / "sources").expanduser()
    mirror_raw = env.get(PREFIX + "SOURCES_MIRROR")
    log_level = (env.get(PREFIX + "LOG_LEVEL") or "WARNING").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"{PREFIX}LOG_LEVEL={log_level!r} must be one of {sorted(_LOG_LEVELS)}")
    ner_raw = env.get(PREFIX + "NER_MODEL")
    return Settings(
        data_dir=data_dir,
        store=store,
        sources_dir=sources_dir,
        sources_mirror=Path(mirror_raw).expanduser() if mirror_raw else None,
        batch_size=_int(env, "BATCH_SIZE", 10_000, minimum=1),
        progress=_tristate(env, "PROGRESS"),
        log_level=log_level,
        ner_model=Path(ner_raw).expanduser() if ner_raw else data_dir / "models" / "ner",
        scispacy_model=env.get(PREFIX + "SCISPACY_MODEL") or None,
        max_text_chars=_int(env, "MAX_TEXT_CHARS", 1_000_000, minimum=1),
        store_record_text=bool(_tristate(env, "STORE_RECORD_TEXT")),
        record_id_key=env.get(PREFIX + "RECORD_ID_KEY") or None,
        prior_common=_float(env, "PRIOR_COMMON", 30.0, minimum=1e-6),
        prior_ddxplus=_float(env, "PRIOR_DDXPLUS", 500.0, minimum=1e-6),
        gnn_model=Path(env.get(PREFIX + "GNN_MODEL") or data_dir / "models" / "gnn.pt").expanduser(),
        api_keys=Path(env.get(PREFIX + "API_KEYS") or data_dir / "api_keys.sqlite").expanduser(),
        audit_log=Path(env.get(PREFIX + "AUDIT_LOG") or data_dir / "audit.jsonl").expanduser(),
        audit_max_bytes=_int(env, "AUDIT_MAX_BYTES", 64 * 1024 * 1024, minimum=0),
        audit_keep=_int(env, "AUDIT_KEEP", 16, minimum=0),
        data_key_file=Path(env.get(PREFIX + "DATA_KEY_FILE") or data_dir / "data-keys.json").expanduser(),
        rate_limit=_int(env, "RATE_LIMIT", 600, minimum=1),
        rate_limits_db=Path(env.get(PREFIX + "RATE_LIMITS_DB") or data_dir / "rate_limits.sqlite").expanduser(),
        redis_url=_redis_url(env),
        max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 1_048_576, minimum=1024),
        max_image_bytes=_int(env, "MAX_IMAGE_BYTES", 16_777_216, minimum=1024),
        cors_origins=tuple(o.strip() for o in (env.get(PREFIX + "CORS_ORIGINS") or "").split(",") if o.strip()),
        api_nlp=_tristate(env, "API_NLP") is not False,
        neo4j_user=env.get("NEO4J_USER") or None,
        neo4j_password=env.get("NEO4J_PASSWORD") or None,
        neo4j_database=env.get("NEO4J_DATABASE") or None,
        cds_hooks_jwt_secret=env.get(PREFIX + "CDS_HOOKS_JWT_SECRET") or None,
        cds_hooks_issuers=tuple(
            i.strip() for i in (env.get(PREFIX + "CDS_HOOKS_ISSUERS") or "").split(",") if i.strip()
        ),
        deid_mode=_deid_mode(env),
        feedback_db=Path(env.get(PREFIX + "FEEDBACK_DB") or data_dir / "feedback.sqlite").expanduser(),
        learned_dir=Path(env.get(PREFIX + "LEARNED_DIR") or data_dir / "learned").expanduser(),
    )


_DEID_MODES = ("surrogates", "tags", "off")


def _deid_mode(env: Mapping[str, str]) -> str | None:
    raw = (env.get(PREFIX + "DEID_MODE") or "surrogates").strip().lower()
    if raw not in _DEID_MODES:
        raise ConfigError(f"{PREFIX}DEID_MODE={raw!r} must be one of {', '.join(_DEID_MODES)}")
    return None if raw == "off" else raw


_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(env: Mapping[str, str]) -> str | None:
    """`CDSS_REDIS_URL`, checked for a scheme the client reads; only the scheme is quoted back, since the rest
    may hold a password."""
    raw = (env.get(PREFIX + "REDIS_URL") or "").strip()
    if not raw:
        return None
    scheme, sep, _ = raw.partition("://")
    if not sep or scheme.lower() not in _REDIS_SCHEMES:
        shown = f"{scheme}://..." if sep else "a value without a scheme"
        raise ConfigError(f"{PREFIX}REDIS_URL={shown} must start with redis://, rediss:// or unix://")
    return raw
