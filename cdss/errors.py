"""The one exception hierarchy of cdss.

Every error a user can cause or meet derives from `CdssError`, carries a stable
`code` (used by the CLI exit status and, later, the API's error body) and a
message that names the bad value.
"""

from __future__ import annotations

from pathlib import Path


class CdssError(Exception):
    """Base of every error cdss raises on purpose."""

    code = "cdss_error"
    exit_status = 1


class ConfigError(CdssError):
    """A `CDSS_*` setting or a command-line option has a value we cannot use."""

    code = "config_error"
    exit_status = 2


class InputError(CdssError, ValueError):
    """Input from a user or client (a record, a case, a request) cannot be used as given."""

    code = "invalid_input"
    exit_status = 2


class InvalidCurieError(CdssError, ValueError):
    """A string that should be a CURIE (`PREFIX:local`) is not one."""

    code = "invalid_curie"
    exit_status = 2

    def __init__(self, value: str, reason: str = "expected PREFIX:ID, e.g. HP:0001945") -> None:
        super().__init__(f"invalid CURIE {value!r}: {reason}")
        self.value = value


class NotFoundError(CdssError, LookupError):
    """A concept, edge or file that was asked for does not exist."""

    code = "not_found"
    exit_status = 3


class SourceError(CdssError):
    """A knowledge source cannot be used."""

    code = "source_error"


class SourceMissingError(SourceError):
    """A source's files are not where the build looks for them."""

    code = "source_missing"

    def __init__(self, source: str, path: Path | str, hint: str) -> None:
        super().__init__(f"source {source!r} is missing: {path} not found; {hint}")
        self.source = source
        self.path = str(path)


class SourceParseError(SourceError):
    """A source file is malformed; names the file and line so it can be fixed."""

    code = "source_parse_error"

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class GraphModelError(CdssError):
    """A node or edge breaks the graph model (wrong labels, bad property value)."""

    code = "graph_model_error"


class StoreError(CdssError):
    """The graph store cannot be opened, read or written."""

    code = "store_error"


class StoreBusyError(StoreError):
    """The graph store is locked by a writer for longer than a reader waits; worth trying again shortly."""


class GraphNotBuiltError(StoreError):
    """The store holds no graph yet."""

    code = "graph_not_built"

    def __init__(self, location: str) -> None:
        super().__init__(f"no graph at {location}: run `cdss kg build` first")
        self.location = location


class AuthError(CdssError):
    """An API request without a valid key, or with a key that lacks the scope it needs."""

    code = "unauthorized"
    exit_status = 2


class ForbiddenError(AuthError):
    code = "forbidden"


class RateLimitedError(CdssError):
    """A key sent more requests than its limit allows."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class NotReadyError(CdssError):
    """A service the request needs (the graph, the NLP pipeline, Neo4j) is not available yet."""

    code = "not_ready"


class FhirInputError(InputError):
    """A FHIR Bundle or resource that cannot be read; `location` says where in it (e.g. `Bundle.entry[2]`)."""

    code = "invalid_fhir"

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class PreconditionFailedError(CdssError):
    """A CDS Hooks call without the prefetch data the service needs (it fetches nothing itself by default)."""

    code = "precondition_failed"


class NothingToRankError(InputError):
    """A case with no finding to rank on; the message gives the reasons (what was read and not used)."""

    code = "nothing_to_rank"


class ImageInputError(InputError):
    """An uploaded image that cannot be used: not an image, corrupt, too large, or of the wrong modality."""

    code = "invalid_image"


class CryptoError(CdssError):
    """Sealed text that cannot be opened: its key is missing, the key is wrong, or the text was altered."""

    code = "crypto_error"
    exit_status = 2


class AuditIntegrityError(CdssError):
    """The API's audit log was changed after it was written: a line edited, removed, added or moved, or its head."""

    code = "audit_integrity"
    exit_status = 4

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        super().__init__(f"audit log {path} is not intact: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason
