"""Rule data for the NLP components: sections, abbreviations, ConText triggers, analytes, reference ranges
and our LOINC2HPO corrections (CC0, written for cdss; each table row cites its source)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_resource(name: str) -> dict[str, Any]:
    """A JSON rule file shipped in this package."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def read_resource_text(name: str) -> str:
    """A tab-separated table shipped in this package, as text."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
