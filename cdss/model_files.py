"""One way to write and read a model file: a dict saved with `torch.save`, written atomically, read back with
`weights_only=True` and refused, naming the file, when it is missing, torn or of another format.

The GNN checkpoints and the hosted image models both use it; torch is imported only when a file is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdss.errors import ConfigError


def save_model_file(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` to a partial file and rename it into place, so a reader never sees half a model."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    torch.save(payload, partial)
    partial.replace(path)


def load_model_file(path: Path, *, format: str, kind: str, train: str) -> dict[str, Any]:
    """The dict in `path`, which must carry `format`; `kind` names it in errors and `train` says how to make one."""
    import torch

    if not path.is_file():
        raise ConfigError(f"no {kind} at {path}: train one with `{train}`")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a torn or foreign file: say which and why
        raise ConfigError(f"{path} is not a readable {kind}: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != format:
        raise ConfigError(f"{path} is not a cdss {kind} (format {format} expected)")
    return payload
