"""Facts about each disease read from its node: the earliest onset its course allows, and whether it is a
can't-miss diagnosis (with the reason and citation)."""

from __future__ import annotations

import numpy as np

# The youngest age (years) each HPO onset term allows, from the terms' definitions.
ONSET_YEARS = {
    "HP:0011461": 0.0,  # Fetal onset
    "HP:0030674": 0.0,  # Antenatal onset
    "HP:0034199": 0.0,  # Late first trimester onset
    "HP:0034198": 0.0,  # Second trimester onset
    "HP:0034197": 0.0,  # Third trimester onset
    "HP:0003577": 0.0,  # Congenital onset
    "HP:0003623": 0.0,  # Neonatal onset
    "HP:0410280": 0.0,  # Pediatric onset
    "HP:0003593": 28 / 365,  # Infantile onset
    "HP:0011463": 1.0,  # Childhood onset
    "HP:0003621": 5.0,  # Juvenile onset
    "HP:0003581": 16.0,  # Adult onset
    "HP:0011462": 16.0,  # Young adult onset
    "HP:0025708": 16.0,  # Early young adult onset
    "HP:0025709": 19.0,  # Intermediate young adult onset
    "HP:0025710": 25.0,  # Late young adult onset
    "HP:0003596": 40.0,  # Middle age onset
    "HP:0003584": 60.0,  # Late onset
}


def onset_years(disease_ids: list[str], concepts: dict) -> np.ndarray:
    """The earliest onset each disease is annotated with, in years (NaN when none)."""
    onset = np.full(len(disease_ids), np.nan)
    for i, disease in enumerate(disease_ids):
        concept = concepts.get(disease)
        course = concept.attributes.get("clinical_course") if concept else None
        ages = [ONSET_YEARS[t] for t in (course or []) if t in ONSET_YEARS]
        if ages:
            onset[i] = min(ages)
    return onset


def urgent_diseases(disease_ids: list[str], concepts: dict) -> dict[int, dict[str, str]]:
    """Can't-miss diseases by index, with the reason and citation."""
    return {
        i: {
            "reason": str(c.attributes.get("urgent_reason", "")),
            "citation": str(c.attributes.get("urgent_citation", "")),
        }
        for i, d in enumerate(disease_ids)
        if (c := concepts.get(d)) is not None and c.attributes.get("urgent")
    }
