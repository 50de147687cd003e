"""Recorded allergies and intolerances against the treatments a ranking would offer.

An allergy names a drug or a drug class. A treatment is held back, with the reason, when it is that drug, when it
shares an FDA established pharmacologic class with it (DrugCentral's classes on every drug node: a penicillin G
allergy holds back amoxicillin, both "Penicillin-class Antibacterial"), or when the allergy names its class
("penicillin"). That is the cross-sensitivity check a prescriber makes first; it is no substitute for theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, NotFoundError
from cdss.json_fields import json_fields
from cdss.text import normalize_term
from cdss.types import Concept, NodeLabel
from kg.lookup import resolve
from kg.store import GraphStore

CLASS_ATTRIBUTE = "established_pharmacologic_classes"


@dataclass(frozen=True, slots=True)
class Allergy:
    """One recorded allergy: what was given, the drugs it resolved to and their classes."""

    given: str
    drugs: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    name: str = ""
    """How a reason names it: the drug's name when a CURIE was given, else what was given."""

    def to_dict(self) -> dict:
        return json_fields(self, rename={"given": "input"}, omit=("name",))


def _classes(concepts: Sequence[Concept]) -> tuple[str, ...]:
    return tuple(sorted({c for concept in concepts for c in concept.attributes.get(CLASS_ATTRIBUTE) or ()}))


def resolve_allergies(store: GraphStore, given: Sequence[str]) -> list[Allergy]:
    """Each allergy's drugs (by CURIE or exact name) and their classes; a name that is no drug may be a class."""
    out = []
    for name in given:
        try:
            drugs = [c for c, _ in resolve(store, normalize_curie(name)) if c.label == NodeLabel.DRUG]
            shown = drugs[0].name if len(drugs) == 1 else name
        except (InvalidCurieError, NotFoundError):
            drugs, shown = store.find_by_name(name, label=NodeLabel.DRUG), name
        out.append(Allergy(name, tuple(sorted(c.id for c in drugs)), _classes(drugs), shown))
    return out


def allergy_conflict(drug: Concept, allergies: Sequence[Allergy]) -> str | None:
    """Why `drug` must not be offered to a patient with these allergies, or None."""
    classes = set(drug.attributes.get(CLASS_ATTRIBUTE) or ())
    for allergy in allergies:
        if drug.id in allergy.drugs:
            return f"recorded allergy or intolerance to {allergy.name or allergy.given}"
        named = normalize_term(allergy.given).removesuffix("s")
        shared = sorted(classes & set(allergy.classes)) or sorted(
            c for c in classes if named and normalize_term(c).startswith(named)
        )
        if shared:
            return f"recorded allergy or intolerance to {allergy.name or allergy.given}: same class ({shared[0]})"
    return None
