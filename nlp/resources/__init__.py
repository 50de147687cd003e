"""Rule data for the NLP components: sections, abbreviations and ConText triggers (CC0, written for cdss)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_resource(name: str) -> dict[str, Any]:
    """A JSON rule file shipped in this package."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
