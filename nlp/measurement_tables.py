"""Our measurement tables (`nlp/resources/`): the analytes notes name and the reference ranges, each row
citing its source. `nlp.measurements` reads values against them."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from nlp.resources import read_resource_text


@dataclass(frozen=True, slots=True)
class Analyte:
    key: str
    loinc: str
    kind: str
    names: tuple[str, ...]
    unit: str
    factors: Mapping[str, str]
    """Unit key -> factor to the analyte's unit (a number, or "F" for Fahrenheit)."""
    bare: tuple[str, ...]
    """Units a number without one may be read in, in order; the first that gives a plausible value wins."""
    plausible: tuple[float, float]

    def convert(self, value: float, unit: str) -> float | None:
        factor = self.factors.get(unit)
        if factor is None:
            return None
        return (value - 32) * 5 / 9 if factor == "F" else value * float(factor)

    def possible(self, value: float) -> bool:
        return self.plausible[0] <= value <= self.plausible[1]


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    loinc: str
    sex: str
    age_min: float | None
    age_max: float | None
    low: str
    high: str
    unit: str
    source: str

    def fits(self, age: float | None, sex: str | None) -> bool:
        if self.sex != "any" and sex is not None and self.sex != sex:
            return False
        if age is None:
            return self.age_max is None
        return (self.age_min is None or age >= self.age_min) and (self.age_max is None or age < self.age_max)

    @property
    def text(self) -> str:
        who = []
        if self.sex != "any":
            who.append(self.sex)
        if self.age_min is not None or self.age_max is not None:
            low = f"{self.age_min:g}" if self.age_min is not None else "0"
            who.append(f"age {low}-{self.age_max:g} y" if self.age_max is not None else f"age {low}+ y")
        return f"{self.low}-{self.high} {self.unit}" + (f" ({', '.join(who)})" if who else "")


def _rows(name: str) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(read_resource_text(name)), delimiter="\t")
    return [{k: (v or "").strip() for k, v in row.items()} for row in rows]


@cache
def analytes() -> tuple[Analyte, ...]:
    out = []
    for row in _rows("analytes.tsv"):
        factors = dict(part.split("=", 1) for part in row["units"].split(";"))
        out.append(
            Analyte(
                key=row["key"],
                loinc=row["loinc"],
                kind=row["kind"],
                names=tuple(n.strip().casefold() for n in row["names"].split("|") if n.strip()),
                unit=row["unit"],
                factors=factors,
                bare=tuple(b for b in row["bare"].split(";") if b),
                plausible=(float(row["plausible_low"]), float(row["plausible_high"])),
            )
        )
    return tuple(out)


@cache
def reference_ranges() -> tuple[ReferenceRange, ...]:
    def number(text: str) -> float | None:
        return float(text) if text else None

    return tuple(
        ReferenceRange(
            r["loinc"],
            r["sex"],
            number(r["age_min"]),
            number(r["age_max"]),
            r["low"],
            r["high"],
            r["unit"],
            r["source"],
        )
        for r in _rows("reference_ranges.tsv")
    )
