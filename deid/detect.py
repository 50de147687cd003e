"""`find_phi`: every rule over one text, overlaps resolved into one list of spans."""

from __future__ import annotations

from deid.gazetteers import gazetteers
from deid.names import name_spans
from deid.patterns import pattern_spans
from deid.places import place_spans
from deid.spans import PhiSpan, resolve_overlaps
from deid.tokens import tokenize

PRIORITY = {
    "email": 90,
    "url": 90,
    "ipv4": 90,
    "ipv6": 90,
    "phone": 80,
    "ssn": 75,
    "street_address": 70,
    "po_box": 70,
    "zip_after_state": 65,
    "zip_cue": 65,
    "date_month_day_year": 60,
    "date_day_month_year": 60,
    "date_iso": 60,
    "date_numeric": 58,
    "date_numeric_dmy": 57,
    "date_month_year": 55,
    "date_month_day": 54,
    "date_day_month": 54,
    "date_month_slash_day": 50,
    "date_month_alone": 48,
    "date_month_cued": 48,
    "street_name": 68,
    "code_cue": 45,
    "age_over_89": 45,
    "age_over_89_cue": 45,
    "name_title": 40,
    "place_facility": 38,
    "place_institution": 37,
    "place_saint": 36,
    "name_credential": 35,
    "name_first_last": 34,
    "name_cue": 30,
    "place_city": 28,
    "place_after_care": 26,
    "name_recurring": 20,
    "code": 10,
}
"""Which rule's type wins where two spans overlap: the more specific shape first."""


def find_phi(text: str) -> list[PhiSpan]:
    """The Safe Harbor identifiers in `text`, sorted and not overlapping."""
    gaz = gazetteers()
    tokens = tokenize(text)
    spans = pattern_spans(text) + name_spans(tokens, gaz) + place_spans(tokens, gaz)
    return resolve_overlaps(spans, PRIORITY)
