"""Identifiers with a shape: dates, numbers, addresses, e-mail, URLs and IPs, ages over 89.

Each rule is a regular expression and a type. Numbers that could be several kinds of
identifier (an MRN, a policy number, a licence) are typed by the cue words just before them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from deid.spans import PhiSpan, PhiType

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
YEAR = r"(?:1[89]\d\d|20\d\d|'\d\d)"

DATE_PATTERNS = [
    ("date_month_day_year", rf"\b{MONTH}\s+{DAY}(?:\s*,\s*|\s+){YEAR}\b"),
    ("date_day_month_year", rf"\b{DAY}(?:(?:\s+of)?\s+|-){MONTH}(?:\s*,\s*|\s+|-){YEAR}\b"),
    ("date_month_day", rf"\b{MONTH}\s+{DAY}\b(?!\s*(?:mg|mcg|g|ml|mL|units?|%|years?|yrs?|days?|weeks?|months?)\b)"),
    ("date_day_month", rf"\b{DAY}\s+(?:of\s+)?{MONTH}\b"),
    ("date_month_year", rf"\b{MONTH}\s*,?\s+{YEAR}\b"),
    ("date_numeric", r"(?<![\d.])\b(?:0?[1-9]|1[0-2])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})\b(?![.-]\d)"),
    ("date_numeric_dmy", r"(?<![\d.])\b(?:0?[1-9]|[12]\d|3[01])([/.])(?:0?[1-9]|1[0-2])\1(?:\d{4}|\d{2})\b(?![.-]\d)"),
    ("date_iso", r"\b(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ][0-2]\d:[0-5]\d(?::[0-5]\d)?)?\b"),
    (
        "date_month_slash_day",
        r"(?i:\b(?:on|since|from|until|dated|dob:?)\s+)(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))\b(?![/.]?\d)",
    ),
]

STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|"
    "OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR"
)
STREET = (
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Way|Ct|Court|Pl|Place|Terrace|Ter|"
    r"Pkwy|Parkway|Hwy|Highway|Cir|Circle|Sq|Square|Trail|Trl)\.?"
)
ADDRESS_PATTERNS = [
    (
        "street_address",
        rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'-]+\s+){{1,3}}{STREET}"
        r"(?:\s*(?:,\s*)?(?:Apt|Suite|Ste|Unit|#)\.?\s*[\w-]+)?",
    ),
    ("street_name", r"\b(?:[A-Z][a-z]+\s+){1,2}(?:Street|Avenue|Road|Boulevard|Lane|Drive|Parkway|Highway)\b"),
    ("po_box", r"\bP\.?\s?O\.?\s+Box\s+\d+\b"),
    ("zip_after_state", rf"\b(?:{STATE_CODES})\s+(?P<v>\d{{5}}(?:-\d{{4}})?)\b"),
    ("zip_cue", r"(?i:\bzip(?:\s*code)?\s*[:#]?\s*)(?P<v>\d{5}(?:-\d{4})?)\b"),
]

CONTACT_PATTERNS = [
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("url", r"\b(?:https?://|www\.)[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]"),
    ("ipv4", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    ("ipv6", r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b"),
    (
        "phone",
        r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?\b",
    ),
    ("ssn", r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])"),
]

MONTH_ALONE = [
    ("date_month_alone", r"\b(?:January|February|April|June|July|September|October|November|December)\b"),
    (
        "date_month_cued",
        r"(?i:\b(?:in|last|next|since|early|late|mid|during|this|until|by)\s+)(?P<v>May|March|August)\b",
    ),
]

AGE_PATTERNS = [
    (
        "age_over_89",
        r"\b(?:9\d|1[01]\d)(?=\s*-?\s*(?:years?|yrs?|y/?o|yo|y\.o\.)\b)(?:\s*-?\s*(?:years?|yrs?)[\s-]*old)?",
    ),
    ("age_over_89_cue", r"(?i:\b(?:age[ds]?|aged)\s*:?\s*)(?P<v>9\d|1[01]\d)\b"),
]

# Codes: an optional '#', letters and digits joined by '-' with at least 4 digits in all, or a bare number
# of 5 or more digits. Years, dates and measurements are ruled out after matching.
CODE = r"#?(?=[A-Z\d-]*\d)[A-Z\d]+(?:-[A-Z\d]+)*"
CUE_PATTERN = re.compile(
    r"(?i:\b(?P<cue>mrn|mr\s?#|medical\s+record(?:\s+(?:number|no\.?|#))?|record\s+(?:number|no\.?|#)|chart(?:\s+(?:number|no\.?|#))?|"
    r"ssn|social\s+security(?:\s+(?:number|no\.?|#))?|"
    r"policy|member(?:\s+id)?|insurance(?:\s+id)?|health\s+plan|plan\s+(?:id|number|no\.?)|medicare|medicaid|beneficiary|subscriber|group\s+(?:number|no\.?|#)|"
    r"account|acct|billing|invoice|"
    r"licen[cs]e|lic\.?|dea|npi|certificate|cert\.?|"
    r"vin|plate|vehicle|"
    r"serial|device|pacemaker|implant|udi|lot|model|"
    r"fax|phone|tel|cell|mobile|call|contact|"
    r"id|identifier|number|no\.|case|ref(?:erence)?)\b)"
)
CUE_TYPES = [
    (("mrn", "mr", "medical", "record", "chart"), PhiType.MRN),
    (("ssn", "social"), PhiType.SSN),
    (
        (
            "policy",
            "member",
            "insurance",
            "health",
            "plan",
            "medicare",
            "medicaid",
            "beneficiary",
            "subscriber",
            "group",
        ),
        PhiType.HEALTH_PLAN,
    ),
    (("account", "acct", "billing", "invoice"), PhiType.ACCOUNT),
    (("licen", "lic", "dea", "npi", "certificate", "cert"), PhiType.LICENSE),
    (("vin", "plate", "vehicle"), PhiType.VEHICLE),
    (("serial", "device", "pacemaker", "implant", "udi", "lot", "model"), PhiType.DEVICE),
    (("fax",), PhiType.FAX),
    (("phone", "tel", "cell", "mobile", "call", "contact"), PhiType.PHONE),
]
CUE_WINDOW = 40
OBSTETRIC = re.compile(r"G\d{1,2}P\d{1,4}(?:-?\d)*")
"""Gravida and para ("G3P3003"), not a code."""
YEAR_ONLY = re.compile(r"#?(?:1[89]|20)\d\d")
MEASUREMENT_AFTER = re.compile(
    r"\s*(?:mg|mcg|µg|g|kg|lb|lbs|ml|mL|L|dL|mmol|mmHg|units?|IU|%|cells|/|x\s?10|k\b|bpm|cm|mm|years?|yrs?|hours?|days?|per\b|copies)",
)


def _cue_type(text: str, start: int) -> PhiType | None:
    """The identifier type that the cue words just before `start` (in the same clause) name.

    A generic cue ("number", "ID", "#") defers to a specific one before it: "account number" is an account.
    """
    window = text[max(0, start - CUE_WINDOW) : start]
    window = re.split(r"[;\n]|\.\s|\band\b", window)[-1]
    cues = [m.group("cue").lower() for m in CUE_PATTERN.finditer(window)]
    if not cues:
        return None
    for word in reversed(cues):
        for stems, phi_type in CUE_TYPES:
            if word.startswith(stems):
                return phi_type
    return PhiType.ID


def _is_code(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if OBSTETRIC.fullmatch(value):
        return False
    if re.fullmatch(r"[\d-]+", value) and "-" in value:
        return digits >= 7
    if re.fullmatch(r"#?\s?\d+", value):
        return digits >= 5 and not re.fullmatch(r"(?:19|20)\d\d", value)
    return digits >= 4


def _codes(text: str) -> Iterator[PhiSpan]:
    for match in re.finditer(rf"(?<![\w.,/-]){CODE}(?![\w/-]|[.,]\d)", text):
        value = match.group()
        if YEAR_ONLY.fullmatch(value):
            continue
        cue = _cue_type(text, match.start())
        if not (_is_code(value) or (cue is not None and sum(c.isdigit() for c in value) >= 3)):
            continue
        if cue is None and MEASUREMENT_AFTER.match(text, match.end()):
            continue
        start = match.start() + (1 if value.startswith("#") and cue is None else 0)
        yield PhiSpan(start, match.end(), cue or PhiType.ID, "code_cue" if cue else "code")


def _typed(rules: list[tuple[str, str]], phi_type: PhiType, text: str) -> Iterator[PhiSpan]:
    for name, pattern in rules:
        for match in _compiled(pattern).finditer(text):
            group = "v" if "v" in match.re.groupindex else 0
            yield PhiSpan(match.start(group), match.end(group), phi_type, name)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern)
    return _CACHE[pattern]


def _contacts(text: str) -> Iterator[PhiSpan]:
    for name, pattern in CONTACT_PATTERNS:
        for match in _compiled(pattern).finditer(text):
            phi_type = {
                "email": PhiType.EMAIL,
                "url": PhiType.URL,
                "ipv4": PhiType.IP,
                "ipv6": PhiType.IP,
                "phone": PhiType.PHONE,
                "ssn": PhiType.SSN,
            }[name]
            cue = _cue_type(text, match.start())
            if name == "phone" and cue == PhiType.FAX:
                phi_type = PhiType.FAX
            elif name == "ssn" and cue not in (None, PhiType.SSN, PhiType.PHONE, PhiType.FAX):
                phi_type = cue
            yield PhiSpan(match.start(), match.end(), phi_type, name)


def pattern_spans(text: str) -> list[PhiSpan]:
    """Every identifier with a recognisable shape, overlapping spans included (resolved later)."""
    spans = list(_typed(DATE_PATTERNS, PhiType.DATE, text))
    spans += _typed(MONTH_ALONE, PhiType.DATE, text)
    spans += _typed(ADDRESS_PATTERNS, PhiType.LOCATION, text)
    spans += _typed(AGE_PATTERNS, PhiType.AGE, text)
    spans += _contacts(text)
    spans += _codes(text)
    return spans
