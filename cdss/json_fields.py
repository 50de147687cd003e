"""One way to show a dataclass as the JSON object of an answer or a report.

Answers and reports list their fields in declaration order; this keeps that order in one place
instead of a hand-written `to_dict` per class that must be kept in step with the fields.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from enum import Enum
from typing import Any


def json_value(value: Any) -> Any:
    """A field's value as JSON shows it: enums by value, tuples as lists, nested objects by their `to_dict`."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def json_fields(
    obj: Any,
    *,
    rename: Mapping[str, str] | None = None,
    rounded: Mapping[str, int] | None = None,
    omit: Collection[str] = (),
    omit_none: Collection[str] = (),
) -> dict[str, Any]:
    """The fields of dataclass `obj` in declaration order.

    `rename` gives a field its public name; `rounded` rounds a float (or each value of a dict of floats)
    to that many places; fields in `omit` are left out, and those in `omit_none` when they are None.
    """
    rename = rename or {}
    rounded = rounded or {}
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name in omit or (value is None and f.name in omit_none):
            continue
        if f.name in rounded:
            places = rounded[f.name]
            value = {k: round(v, places) for k, v in value.items()} if isinstance(value, dict) else round(value, places)
        out[rename.get(f.name, f.name)] = json_value(value)
    return out
