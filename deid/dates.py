"""Reading a date span into a calendar date and writing it back shifted, in the same style.

Surrogate dates move every date of a patient by one offset, so intervals stay true while the
calendar dates do not.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_NAMED = re.compile(
    r"(?P<m1>[A-Za-z]+)\.?\s+(?P<d1>\d{1,2})(?P<s1>st|nd|rd|th)?(?:\s*,\s*|\s+)(?P<y1>\d{4}|'\d\d)$"
    r"|(?P<d2>\d{1,2})(?P<s2>st|nd|rd|th)?(?:\s+of\s+|\s+|-)(?P<m2>[A-Za-z]+)\.?(?:\s*,\s*|\s+|-)(?P<y2>\d{4}|'\d\d)$"
    r"|(?P<m3>[A-Za-z]+)\.?\s+(?P<d3>\d{1,2})(?P<s3>st|nd|rd|th)?$"
    r"|(?P<m4>[A-Za-z]+)\.?\s*,?\s+(?P<y4>\d{4}|'\d\d)$"
    r"|(?P<m5>[A-Za-z]+)$"
)
_NUMERIC = re.compile(r"(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?:(?P=sep)(?P<c>\d{2,4}))?(?P<rest>.*)$")
NO_YEAR = 2000
"""A leap year, for dates written without one."""


def _month(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for number, name in enumerate(MONTHS, start=1):
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def _year(text: str) -> int:
    return 2000 + int(text[1:]) if text.startswith("'") else int(text)


def shift_date(value: str, days: int) -> str | None:
    """`value` moved by `days`, written as it was; None when it cannot be read as a date."""
    value = value.strip()
    numeric = _NUMERIC.match(value)
    if numeric:
        return _shift_numeric(numeric, days)
    named = _NAMED.match(value)
    if not named:
        return None
    groups = {k: v for k, v in named.groupdict().items() if v}
    month = _month(groups.get("m1") or groups.get("m2") or groups.get("m3") or groups.get("m4") or groups["m5"])
    if month is None:
        return None
    year_text = groups.get("y1") or groups.get("y2") or groups.get("y4")
    day = int(groups.get("d1") or groups.get("d2") or groups.get("d3") or 15)
    try:
        moved = date(_year(year_text) if year_text else NO_YEAR, month, day) + timedelta(days=days)
    except ValueError:
        return None
    name = MONTHS[moved.month - 1].capitalize()
    written = groups.get("m1") or groups.get("m2") or groups.get("m3") or groups.get("m4") or groups["m5"]
    if len(written.rstrip(".")) <= 4 and written.lower() != name.lower():
        name = name[:3]
    year = f"'{moved.year % 100:02d}" if year_text and year_text.startswith("'") else str(moved.year)
    suffix = _ordinal(moved.day) if (groups.get("s1") or groups.get("s2") or groups.get("s3")) else ""
    if "m1" in groups:
        return f"{name} {moved.day}{suffix}, {year}"
    if "m2" in groups:
        return f"{moved.day}{suffix} {name} {year}"
    if "m3" in groups:
        return f"{name} {moved.day}{suffix}"
    if "m4" in groups:
        return f"{name} {year}"
    return name


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _shift_numeric(match: re.Match[str], days: int) -> str | None:
    a, b, c, sep = match["a"], match["b"], match["c"], match["sep"]
    try:
        if len(a) == 4:
            moved = date(int(a), int(b), int(c)) + timedelta(days=days)
            return f"{moved:%Y}{sep}{moved:%m}{sep}{moved:%d}{match['rest']}"
        month, day = (int(a), int(b)) if sep != "." else (int(b), int(a))
        year = int(c) if c else NO_YEAR
        year = year + 2000 if c and len(c) == 2 else year
        moved = date(year, month, day) + timedelta(days=days)
    except (ValueError, TypeError):
        return None
    first, second = (moved.month, moved.day) if sep != "." else (moved.day, moved.month)
    width = 2 if len(a) == 2 else 1
    text = f"{first:0{width}d}{sep}{second:0{len(b)}d}"
    if c:
        text += sep + (f"{moved.year % 100:02d}" if len(c) == 2 else str(moved.year))
    return text
