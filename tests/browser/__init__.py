"""Browser tests of the clinician's page: the real app over HTTP, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path(os.environ.get("CDSS_CHROMIUM", "/usr/bin/chromium"))


def why_no_browser() -> str | None:
    """Why these tests cannot run on this machine, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests skipped: the 'playwright' package is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set CDSS_CHROMIUM)"
    return None


@dataclass(frozen=True, slots=True)
class Site:
    """Where the app under test answers, and a key with the read scope."""

    url: str
    key: str
