"""Progress bars for long jobs, on stderr, on a terminal unless settings say otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(
    items: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    enabled: bool | None = None,
    unit: str = "it",
) -> Iterator[T]:
    """Wrap `items` in a progress bar; `enabled=None` shows it only on a terminal."""
    return iter(
        tqdm(
            items,
            desc=desc,
            total=total,
            disable=None if enabled is None else not enabled,
            unit=unit,
            unit_scale=True,
            leave=False,
            dynamic_ncols=True,
        )
    )
