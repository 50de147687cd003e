"""Vital signs and lab values in text: the value, its unit, the range it is read against, and what it means.

Pure functions over plain strings; `nlp.measurement_spans` puts them in the
pipeline. Three tables of our own drive them (`nlp/resources/`):

- `analytes.tsv`: each analyte's LOINC code, the names notes use, its unit,
  the units it converts from, the units a bare number may be read in, and
  the range of values a patient can have at all;
- `reference_ranges.tsv`: the normal interval [low, high], inclusive, by
  sex and age band, each row citing its source;
- `loinc2hpo_overrides.tsv`: our corrections to LOINC2HPO, which maps a
  LOINC code and an outcome (low, normal, high) to an HPO term.

A value is read only when the text gives it plainly: a name, a short
connector ("is", "of", ":"), a number and a unit the analyte knows (or none,
where only one reading is plausible). A range ("WBC 12-15"), a number in
words, an unknown unit or an impossible value is reported and not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache

from nlp.measurement_tables import Analyte, ReferenceRange, analytes, reference_ranges

LOW, NORMAL, HIGH = "L", "N", "H"
OUTCOME_WORDS = {LOW: "low", NORMAL: "normal", HIGH: "high"}
WINDOW = 45
"""Characters after a name within which its value must start."""
TIGHT = 4
"""Names this short (T, HR, K, Na) take their value only right after them ("HR 110", "K: 5.9")."""
_TIGHT_CONNECTOR = re.compile(r"[\s:=]*(?:(?:is|was|of|at)\s*)?[\s:=]*")
_LOOSE_CONNECTOR = re.compile(r"[^\d\n;]{0,40}")
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"\.\s|[;\n]")
_VALUE = re.compile(
    r"(?P<value>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?:\s*/\s*(?P<second>\d+(?:\.\d+)?))?"
    r"(?P<range>\s*(?:-|–|—|to)\s*\d)?"
)
_OXYGEN = re.compile(
    r"\b(?:on|with|receiving)\s+(?:\d+(?:\.\d+)?\s*(?:l|liters?|litres?|lpm)\b|supplemental|oxygen|o2|nasal cannula|"
    r"a (?:non-?rebreather|face ?mask|venturi)|high-flow|bipap|cpap|fio2)",
    re.IGNORECASE,
)
_ROOM_AIR = re.compile(r"\b(?:on |breathing )?(?:room air|ambient air|ra)\b", re.IGNORECASE)
_SPECIMEN = re.compile(
    r"\b(?:(?P<other>urine|urinalysis|csf|cerebrospinal fluid|pleural fluid|pleural|ascitic|peritoneal fluid|"
    r"synovial|joint fluid|stool|sputum|amniotic|vitreous|dipstick)|(?P<blood>serum|blood|plasma|arterial|venous|"
    r"capillary|cbc|complete blood count))\b",
    re.IGNORECASE,
)
LOOKBACK = 200
"""Characters before a lab name searched for the specimen it was measured in ("Urine: ... WBC 10")."""
_AGE = re.compile(
    r"\b(\d{1,3}|\d+\.\d+)[- ](year|yr|month|mo|week|wk|day)s?[- ]old\b|\baged? (\d{1,3})\b", re.IGNORECASE
)
_SEX = (
    (re.compile(r"\b(?:man|male|boy|gentleman|he|his|him|husband|father)\b", re.IGNORECASE), "male"),
    (re.compile(r"\b(?:woman|female|girl|lady|she|her|wife|mother|pregnant)\b", re.IGNORECASE), "female"),
)

# Unit spellings -> the keys analytes.tsv uses. Longest spellings are tried first.
_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "°C": ("°c", "ºc", "° c", "degrees celsius", "degrees c", "deg c", "celsius", "c"),
    "°F": ("°f", "ºf", "° f", "degrees fahrenheit", "degrees f", "deg f", "fahrenheit", "f"),
    "/min": (
        "beats per minute",
        "beats/min",
        "breaths per minute",
        "breaths/min",
        "per minute",
        "/minute",
        "/min",
        "bpm",
        "min-1",
    ),
    "mm[Hg]": ("mm hg", "mmhg", "mm of mercury"),
    "%": ("percent", "per cent", "%"),
    "kg/m2": ("kg/m2", "kg/m^2", "kg/m²"),
    "10*3/uL": (
        "x 10^3/ul",
        "x10^3/ul",
        "× 10^3/µl",
        "×10^3/µl",
        "x 10^3/µl",
        "x10^3/µl",
        "× 10^3/ul",
        "10^3/ul",
        "10^3/µl",
        "k/ul",
        "k/µl",
        "thou/ul",
    ),
    "10*9/L": ("x 10^9/l", "x10^9/l", "× 10^9/l", "×10^9/l", "x 10(9)/l", "10^9/l", "x 109/l", "× 109/l", "g/l*"),
    "/uL": (
        "per cubic millimeter",
        "per cubic millimetre",
        "per mm3",
        "per microliter",
        "per microlitre",
        "cells/mm3",
        "cells/µl",
        "cells/ul",
        "/mm3",
        "/mm^3",
        "/µl",
        "/ul",
        "/cmm",
    ),
    "g/dL": ("g/dl", "gm/dl", "grams per deciliter", "g/100 ml"),
    "g/L": ("g/l",),
    "mg/dL": ("mg/dl", "mg/100 ml", "milligrams per deciliter"),
    "mg/L": ("mg/l",),
    "mmol/L": ("mmol/l", "mm/l", "millimoles per liter"),
    "umol/L": ("µmol/l", "umol/l", "μmol/l", "micromoles per liter"),
    "mEq/L": ("meq/l", "milliequivalents per liter"),
    "U/L": ("u/l", "iu/l", "units/l", "units per liter"),
    "fL": ("fl", "femtoliters", "μm3", "µm3", "um3"),
    "mU/L": ("mu/l", "miu/l", "µu/ml", "μu/ml", "uu/ml", "µiu/ml", "uiu/ml", "mlu/l"),
    "ng/mL": ("ng/ml",),
    "ng/L": ("ng/l", "pg/ml"),
    "mm/h": ("mm/h", "mm/hr", "mm/hour", "mm in 1 hour", "mm per hour"),
    "kPa": ("kpa",),
}
SPELLING_TO_UNIT = {s.casefold(): unit for unit, spellings in _UNIT_SPELLINGS.items() for s in spellings}
"""Keyed by casefolded spelling: the micro sign folds to the Greek mu."""
_UNIT = re.compile(
    r"\s*(?P<unit>"
    + "|".join(re.escape(s) for s in sorted(SPELLING_TO_UNIT, key=len, reverse=True))
    + r")(?![a-z0-9µμ])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Patient:
    """What a measurement's reading depends on, as far as the text says."""

    age: float | None = None
    sex: str | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value found in text, read or refused."""

    analyte: str
    loinc: str
    start: int
    end: int
    text: str
    value: float | None = None
    second: float | None = None
    unit: str | None = None
    outcome: str | None = None
    range: str | None = None
    reason: str = ""
    source: str | None = None
    problem: str | None = None
    """Why the value is not used, when it is not."""
    on_oxygen: bool = False

    def to_dict(self) -> dict:
        out = {
            "analyte": self.analyte,
            "loinc": self.loinc,
            "value": self.value if self.second is None else f"{self.value:g}/{self.second:g}",
            "unit": self.unit,
            "outcome": OUTCOME_WORDS.get(self.outcome or ""),
            "range": self.range,
            "reason": self.reason,
            "range_source": self.source,
        }
        if self.problem:
            out["problem"] = self.problem
        return out


@cache
def _longest_name() -> int:
    return max(len(name) for a in analytes() for name in a.names)


@cache
def _name_pattern() -> tuple[re.Pattern, dict[str, Analyte]]:
    by_name = {name: a for a in analytes() for name in a.names}
    alternation = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    return re.compile(rf"(?<![\w+\-])(?:{alternation})(?![\w])", re.IGNORECASE), by_name


def patient_of(text: str) -> Patient:
    """Age and sex as a vignette or note opens with them ("A 58-year-old man"); None where it does not say."""
    age = None
    found = _AGE.search(text)
    if found:
        if found.group(3):
            age = float(found.group(3))
        else:
            number, unit = float(found.group(1)), found.group(2).casefold()
            age = (
                number
                if unit in ("year", "yr")
                else number / {"month": 12, "mo": 12, "week": 52, "wk": 52}.get(unit, 365)
            )
    opening = text[:300]
    sexes = [(match.start(), sex) for pattern, sex in _SEX for match in [pattern.search(opening)] if match]
    return Patient(age=age, sex=min(sexes)[1] if sexes else None)


def _names_before_numbers(text: str, pattern: re.Pattern) -> list[re.Match]:
    """Analyte names within reach of a number. Searching only the stretches before digits keeps the large
    name pattern off the prose between them, which is most of a note."""
    reach = WINDOW + _longest_name()
    stretches: list[list[int]] = []
    for digit in _DIGITS.finditer(text):
        # A few characters past the digits: names hold digits ("SpO2", "HbA1c", "HCO3-"), and "T38" must not
        # read as the name "T" (the lookahead has to see the digit).
        start, end = max(0, digit.start() - reach), digit.end() + 4
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    return [match for start, end in stretches for match in pattern.finditer(text, start, end)]


def find_measurements(text: str, patient: Patient | None = None) -> Iterator[Measurement]:
    """Every analyte name followed by a value, read against its range, in text order."""
    pattern, by_name = _name_pattern()
    patient = patient or Patient()
    names = _names_before_numbers(text, pattern)
    for i, match in enumerate(names):
        analyte = by_name[match.group(0).casefold()]
        stop = min(names[i + 1].start() if i + 1 < len(names) else len(text), match.end() + WINDOW)
        window = text[match.end() : stop]
        ended = _SENTENCE_END.search(window)
        if ended:
            window = window[: ended.start()]
        connector = (_TIGHT_CONNECTOR if len(match.group(0)) <= TIGHT else _LOOSE_CONNECTOR).match(window)
        value = _VALUE.match(window, connector.end()) if connector else None
        if value is None:
            continue
        specimen = _specimen_before(text, match.start(), match.end()) if analyte.kind == "lab" else None
        if specimen:
            yield Measurement(
                analyte.key,
                analyte.loinc,
                match.start(),
                match.end() + value.end(),
                text[match.start() : match.end() + value.end()],
                problem=f"measured in {specimen}, not blood: not read against a blood range",
            )
            continue
        found = read_value(analyte, text, match.start(), match.end() + value.start(), match.end() + value.end(), value)
        yield interpret(found, analyte, patient)


def _specimen_before(text: str, start: int, end: int) -> str | None:
    """The non-blood specimen named last before a lab value or in its name ("CSF glucose", "Urinalysis: ... WBC",
    but "Serum glucose"), if any."""
    window = text[max(0, start - LOOKBACK) : end]
    blank = window.rfind("\n\n")
    named = list(_SPECIMEN.finditer(window[blank + 1 :] if blank >= 0 else window))
    if not named or not named[-1].group("other"):
        return None
    return named[-1].group("other").casefold()


def read_value(
    analyte: Analyte, text: str, start: int, value_start: int, value_end: int, value: re.Match
) -> Measurement:
    """The number and unit after a name, converted to the analyte's unit; a problem when it cannot be."""
    raw = value.group("value")
    unit_match = _UNIT.match(text, value_end)
    end = unit_match.end() if unit_match else value_end
    base = {"analyte": analyte.key, "loinc": analyte.loinc, "start": start, "end": end, "text": text[start:end]}
    if value.group("range"):
        return Measurement(**base, problem=f"a range ({raw} to ...), not one value")
    number = float(raw.replace(",", ""))
    second = float(value.group("second")) if value.group("second") else None
    if (second is not None) != (analyte.key == "blood_pressure"):
        return Measurement(**base, problem=f"{text[value_start:value_end]!r} is not one {analyte.key} value")
    after = text[end : end + 40]
    on_oxygen = bool(_OXYGEN.search(after)) and not _ROOM_AIR.search(after)
    if unit_match:
        spelled = unit_match.group("unit")
        unit = SPELLING_TO_UNIT[spelled.casefold()]
        converted = analyte.convert(number, unit)
        if converted is None:
            return Measurement(**base, problem=f"unit {spelled!r} is not one {analyte.key} is measured in")
        if not analyte.possible(converted):
            return Measurement(**base, problem=f"{raw} {spelled} is not a possible {analyte.key} value")
        reason = "" if unit == analyte.unit else f"{raw} {spelled} = {converted:.4g} {analyte.unit}; "
        return Measurement(
            **base, value=converted, second=second, unit=analyte.unit, reason=reason, on_oxygen=on_oxygen
        )
    for unit in analyte.bare:
        converted = analyte.convert(number, unit)
        if converted is not None and analyte.possible(converted):
            second_ok = second is None or analyte.possible(second)
            if not second_ok:
                break
            reason = "no unit given; " + (
                f"read as {unit}, the only plausible reading; " if len(analyte.bare) > 1 else f"read as {unit}; "
            )
            if unit != analyte.unit:
                reason += f"= {converted:.4g} {analyte.unit}; "
            return Measurement(
                **base, value=converted, second=second, unit=analyte.unit, reason=reason, on_oxygen=on_oxygen
            )
    problem = "no unit given, and no unit makes it a possible value" if analyte.bare else "no unit given"
    return Measurement(**base, problem=f"{raw}: {problem}")


def _bounds(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split("/"))


def interpret(found: Measurement, analyte: Analyte, patient: Patient) -> Measurement:
    """Low, normal or high against the first reference range that fits the patient's age and sex."""
    if found.problem or found.value is None:
        return found
    fitting = [r for r in reference_ranges() if r.loinc == analyte.loinc and r.fits(patient.age, patient.sex)]
    if not fitting:
        return _with(found, problem=f"no reference range for {analyte.key} at {_who(patient)}")
    if len(fitting) > 1:
        # Sex not known and the range depends on it: the widest interval, so nothing normal reads as abnormal.
        low = min(_bounds(r.low)[0] for r in fitting)
        high = max(_bounds(r.high)[0] for r in fitting)
        chosen = ReferenceRange(
            analyte.loinc, "any", fitting[0].age_min, None, f"{low:g}", f"{high:g}", fitting[0].unit, fitting[0].source
        )
        note = "sex not given: the union of the ranges for both sexes; "
    else:
        chosen, note = fitting[0], ""
    if patient.age is None and chosen.age_min is not None:
        note += "age not given: the adult range; "
    values = (found.value,) if found.second is None else (found.value, found.second)
    lows, highs = _bounds(chosen.low), _bounds(chosen.high)
    if any(v < low for v, low in zip(values, lows, strict=False)):
        outcome = LOW
    elif any(v > high for v, high in zip(values, highs, strict=False)):
        outcome = HIGH
    else:
        outcome = NORMAL
    if analyte.key == "oxygen_saturation" and found.on_oxygen and outcome == NORMAL:
        return _with(found, range=chosen.text, problem="normal on supplemental oxygen: says nothing about hypoxemia")
    shown = f"{found.value:g}" if found.second is None else f"{found.value:g}/{found.second:g}"
    reason = f"{found.reason}{note}{shown} {analyte.unit} is {OUTCOME_WORDS[outcome]} against {chosen.text}"
    return _with(found, outcome=outcome, range=chosen.text, reason=reason, source=chosen.source)


def _who(patient: Patient) -> str:
    parts = [f"age {patient.age:g}" if patient.age is not None else "unknown age"]
    if patient.sex:
        parts.append(patient.sex)
    return ", ".join(parts)


def _with(found: Measurement, **changes) -> Measurement:
    return replace(found, **changes)
