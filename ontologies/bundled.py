"""Locating data files inside installed packages without importing them.

Some of these packages do heavy work at import time, so we only ask the
import system where they live.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cdss.errors import SourceMissingError


def package_dir(module: str, *, install_hint: str) -> Path:
    """The folder of an installed top-level package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceMissingError(module, module, install_hint)
    return Path(next(iter(spec.submodule_search_locations)))


def package_data_file(module: str, relative: str, *, install_hint: str) -> Path:
    """A file shipped inside an installed package; raises if it is not there."""
    path = package_dir(module, install_hint=install_hint) / relative
    if not path.is_file():
        raise SourceMissingError(module, path, install_hint)
    return path
