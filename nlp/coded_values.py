"""Coded values (a FHIR Observation's LOINC code and valueQuantity) read the way values in text are read.

The same analyte table, unit conversions, plausibility limits and reference ranges as `nlp.measurements`, so a
temperature sent as 38.9 Cel reads exactly as "temperature 38.9 °C" in a note does.
"""

from __future__ import annotations

from nlp.measurement_tables import analytes
from nlp.measurements import SPELLING_TO_UNIT, Measurement, Patient, interpret

# UCUM codes a FHIR valueQuantity carries that our unit keys spell otherwise (units of measure: ucum.org, and the
# UCUM codes HL7 lists for vital signs at hl7.org/fhir/R4/observation-vitalsigns.html).
UCUM_UNITS = {
    "Cel": "°C",
    "[degF]": "°F",
    "{beats}/min": "/min",
    "{breaths}/min": "/min",
    "[IU]/L": "U/L",
    "m[IU]/L": "mU/L",
    "u[IU]/mL": "uU/mL",
    "10*3/mm3": "10*3/uL",
    "/mm3": "/uL",
}


def read_coded(
    loinc: str, value: float, unit: str, patient: Patient, *, second: float | None = None
) -> Measurement | None:
    """A coded value (a FHIR Observation's LOINC code and valueQuantity) read as a value in text is: the unit
    converted, the value checked for possibility and read against its range. None when no analyte has `loinc`."""
    analyte = next((a for a in analytes() if a.loinc == loinc), None)
    if analyte is None:
        return None
    spelled = UCUM_UNITS.get(unit) or SPELLING_TO_UNIT.get(unit.strip().casefold())
    unit_key = unit if unit in analyte.factors else spelled
    shown = f"{value:g} {unit}" if second is None else f"{value:g}/{second:g} {unit}"
    base = {"analyte": analyte.key, "loinc": loinc, "start": 0, "end": len(shown), "text": shown}
    if (second is not None) != (analyte.key == "blood_pressure"):
        return Measurement(**base, problem=f"{shown!r} is not one {analyte.key} value")
    converted = analyte.convert(value, unit_key) if unit_key else None
    converted_second = analyte.convert(second, unit_key) if unit_key and second is not None else None
    if converted is None:
        return Measurement(**base, problem=f"unit {unit!r} is not one {analyte.key} is measured in")
    if not analyte.possible(converted) or (converted_second is not None and not analyte.possible(converted_second)):
        return Measurement(**base, problem=f"{shown} is not a possible {analyte.key} value")
    reason = "" if unit_key == analyte.unit else f"{value:g} {unit} = {converted:.4g} {analyte.unit}; "
    found = Measurement(**base, value=converted, second=converted_second, unit=analyte.unit, reason=reason)
    return interpret(found, analyte, patient)
