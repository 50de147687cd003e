"""A case: what is known about one patient, checked and parsed from plain data.

`parse_case` checks plain data (`cdss rank`'s JSON lines); the API's
pydantic models check a request's fields once and build the `Case` with
`stated` and `checked`, which hold the rules both paths share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdss.curies import normalize_curie
from cdss.errors import InputError, InvalidCurieError

SEXES = ("female", "male")
CARE_SETTINGS = ("ed", "primary_care", "unknown")
"""Where the patient is seen: the emergency department, primary care, or not said (the prior averages both)."""
CASE_FIELDS = frozenset(
    {"id", "present", "absent", "text", "image_findings", "medications", "allergies", "genes", "age", "sex", "setting"}
)
MAX_ITEMS = 500
MAX_GENES = 100
MAX_GENE_CHARS = 100
MAX_AGE = 130
ACMG_CLASSES = ("pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign")
"""The ACMG/AMP variant classes (Richards et al. 2015), as a case spells them."""
DEFAULT_ACMG = "likely_pathogenic"
"""The class of a gene named alone: a report lists the variants it holds causal, (likely) pathogenic ones."""
GENE_FIELDS = frozenset({"gene", "acmg"})


@dataclass(frozen=True, slots=True)
class StatedFinding:
    """A concept the case states present or absent, with how sure the caller is."""

    id: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class ImageFinding:
    """One output of an image model: a label it emits (or a finding CURIE) and its probability."""

    label: str
    probability: float
    model: str = ""
    reference: float | None = None
    """The probability the model gives before seeing the image: the positive share of the data it was
    calibrated on. The output counts as evidence relative to it (virtual evidence); None: the ranking's default."""


@dataclass(frozen=True, slots=True)
class ReportedGene:
    """A gene the patient's genetic test reports a variant in (HGNC symbol or gene CURIE), and the variant's
    ACMG class."""

    gene: str
    acmg: str = DEFAULT_ACMG


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    id: str = ""
    present: tuple[StatedFinding, ...] = ()
    absent: tuple[StatedFinding, ...] = ()
    text: str | None = None
    image_findings: tuple[ImageFinding, ...] = ()
    medications: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    """Drugs or drug classes (names or CURIEs) the patient is allergic or intolerant to."""
    genes: tuple[ReportedGene, ...] = ()
    age: float | None = None
    sex: str | None = None
    setting: str = "unknown"


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where} must be a number between 0 and 1, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{where} must be between 0 and 1, got {value}")
    return float(value)


def _list(data: Mapping[str, Any], key: str, limit: int = MAX_ITEMS) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"'{key}' must be a list, got {type(value).__name__}")
    if len(value) > limit:
        raise InputError(f"'{key}' has {len(value)} items; at most {limit} are accepted")
    return value


def _curie(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where} must be a CURIE string such as HP:0001945, got {value!r}")
    try:
        return normalize_curie(value)
    except InvalidCurieError as error:
        raise InputError(f"{where}: {error}") from None


def _stated(items: Sequence[Any], key: str) -> tuple[StatedFinding, ...]:
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            out.append(stated(item, 1.0, where))
        elif isinstance(item, Mapping):
            unknown = set(item) - {"id", "confidence"}
            if unknown:
                raise InputError(f"{where} has unknown fields {sorted(unknown)}; expected id and confidence")
            confidence = _probability(item.get("confidence", 1.0), f"{where}.confidence")
            out.append(stated(item.get("id"), confidence, f"{where}.id"))
        else:
            raise InputError(f"{where} must be a CURIE or {{'id', 'confidence'}}, got {item!r}")
    return tuple(out)


def stated(curie: str, confidence: float, where: str) -> StatedFinding:
    """A stated finding with its CURIE normalised; a CURIE that cannot be is an `InputError` naming `where`."""
    return StatedFinding(_curie(curie, where), confidence)


def checked(case: Case) -> Case:
    """The rules across fields: no finding stated both present and absent."""
    both = {f.id for f in case.present} & {f.id for f in case.absent}
    if both:
        raise InputError(f"the case states {', '.join(sorted(both))} both present and absent")
    return case


def _images(items: Sequence[Any]) -> tuple[ImageFinding, ...]:
    out = []
    for i, item in enumerate(items):
        where = f"image_findings[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{where} must be an object with label, probability and model, got {item!r}")
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise InputError(f"{where}.label must be a non-empty string, got {label!r}")
        model = item.get("model", "")
        if not isinstance(model, str):
            raise InputError(f"{where}.model must be a string, got {model!r}")
        out.append(ImageFinding(label.strip(), _probability(item.get("probability"), f"{where}.probability"), model))
    return tuple(out)


def _names(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    items = _list(data, key)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InputError(f"{key}[{i}] must be a drug name or CURIE, got {item!r}")
    return tuple(item.strip() for item in items)


def _genes(data: Mapping[str, Any]) -> tuple[ReportedGene, ...]:
    """Each gene as a symbol or CURIE, alone (its class then the default) or as {"gene", "acmg"}."""
    out = []
    for i, item in enumerate(_list(data, "genes", MAX_GENES)):
        where = f"genes[{i}]"
        if isinstance(item, Mapping):
            unknown = set(item) - GENE_FIELDS
            if unknown:
                raise InputError(f"{where} has unknown fields {sorted(map(str, unknown))}; expected gene and acmg")
            acmg = item.get("acmg", DEFAULT_ACMG)
            if acmg not in ACMG_CLASSES:
                raise InputError(f"{where}.acmg must be one of {list(ACMG_CLASSES)}, got {acmg!r}")
            out.append(ReportedGene(_gene_name(item.get("gene"), f"{where}.gene"), acmg))
        else:
            out.append(ReportedGene(_gene_name(item, where)))
    return tuple(out)


def _gene_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value.split()) != 1 or len(value) > MAX_GENE_CHARS:
        raise InputError(f"{where} must be an HGNC symbol or a gene CURIE such as FBN1 or NCBIGene:2200, got {value!r}")
    return value.strip()


def parse_case(data: Any) -> Case:
    """A `Case` from a JSON-like mapping; every problem is an `InputError` naming the field."""
    if not isinstance(data, Mapping):
        raise InputError(f"a case must be a JSON object, got {type(data).__name__}")
    unknown = set(data) - CASE_FIELDS
    if unknown:
        raise InputError(f"unknown case fields {sorted(map(str, unknown))}; expected some of {sorted(CASE_FIELDS)}")
    case_id = data.get("id", "")
    if not isinstance(case_id, str | int) or isinstance(case_id, bool):
        raise InputError(f"'id' must be a string, got {case_id!r}")
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError(f"'text' must be a string, got {type(text).__name__}")
    medications, allergies = _names(data, "medications"), _names(data, "allergies")
    age = data.get("age")
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, int | float) or not math.isfinite(age):
            raise InputError(f"'age' must be a number of years, got {age!r}")
        if not 0 <= age <= MAX_AGE:
            raise InputError(f"'age' must be between 0 and {MAX_AGE} years, got {age}")
    sex = data.get("sex")
    if sex is not None:
        if not isinstance(sex, str) or sex.strip().lower() not in SEXES:
            raise InputError(f"'sex' must be one of {list(SEXES)}, got {sex!r}")
        sex = sex.strip().lower()
    setting = data.get("setting")
    if setting is None:
        setting = "unknown"
    if not isinstance(setting, str) or setting.strip().lower() not in CARE_SETTINGS:
        raise InputError(f"'setting' must be one of {list(CARE_SETTINGS)}, got {setting!r}")
    return checked(
        Case(
            id=str(case_id),
            present=_stated(_list(data, "present"), "present"),
            absent=_stated(_list(data, "absent"), "absent"),
            text=text,
            image_findings=_images(_list(data, "image_findings")),
            medications=medications,
            allergies=allergies,
            genes=_genes(data),
            age=float(age) if age is not None else None,
            sex=sex,
            setting=setting.strip().lower(),
        )
    )
