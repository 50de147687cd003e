"""Priors from survey visit shares: settings, strata, inheritance down the hierarchy, and the tier fallback."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from cdss.types import Concept, NodeLabel
from ranking.config import COMMON, RARE, RankingConfig
from ranking.priors import MAX_DESCENDANTS, PriorTable

CONFIG = RankingConfig()
STRATA = [f"{s}|{b}|{x}" for s in ("ed", "office") for b in ("0-4", "5-17", "18-64", "65+") for x in ("female", "male")]


def _surveyed(disease: str, name: str, ed: float, office: float, *, n: int = 10, adults: float | None = None, **kw):
    by_stratum = [ed if s.startswith("ed") else office for s in STRATA]
    if adults is not None:
        by_stratum = [adults if "|18-64|" in s else v for s, v in zip(STRATA, by_stratum, strict=True)]
    attributes = {
        "visit_share_ed": ed,
        "visit_share_office": office,
        "visit_n_ed": n,
        "visit_n_office": n,
        "visit_strata": STRATA,
        "visit_share_by_stratum": by_stratum,
        "visit_n_by_stratum": [1] * len(STRATA),
        "visit_share_source": "test surveys",
    }
    return Concept(disease, NodeLabel.DISEASE, name, attributes=attributes, **kw)


def _table(concepts, parents=None, tiers=None):
    ids = [c.id for c in concepts]
    return PriorTable(ids, {c.id: c for c in concepts}, parents or {}, tiers or [COMMON] * len(ids))


def test_the_setting_chooses_the_survey_and_unknown_averages_them():
    table = _table([_surveyed("D:ed", "ED disease", 0.02, 0.001), _surveyed("D:gp", "office disease", 0.001, 0.02)])
    ed = table.shares(CONFIG, "ed", None, None)
    office = table.shares(CONFIG, "primary_care", None, None)
    unknown = table.shares(CONFIG, "unknown", None, None)
    assert ed[0] > ed[1] and office[1] > office[0]
    assert unknown[0] == pytest.approx(unknown[1])


def test_age_band_and_sex_pick_the_stratum():
    table = _table([_surveyed("D:1", "adult disease", 0.01, 0.01, adults=0.05), _surveyed("D:2", "other", 0.01, 0.01)])
    adult = table.shares(CONFIG, "ed", 40, "female")
    child = table.shares(CONFIG, "ed", 3, "female")
    assert adult[0] == pytest.approx(0.05) and child[0] == pytest.approx(0.01)
    assert table.origin(0, CONFIG, "ed", 40, "female").kind == "survey"


def test_a_child_with_no_code_inherits_a_share_of_a_specific_parent():
    parent = _surveyed("DOID:1", "pneumonia", 0.01, 0.01)
    coded = Concept("DOID:3", NodeLabel.DISEASE, "coded child", xrefs=("ICD10CM:J15",))
    table = _table(
        [parent, Concept("DOID:2", NodeLabel.DISEASE, "child"), coded],
        parents={"DOID:2": ["DOID:1"], "DOID:3": ["DOID:1"]},
    )
    shares = table.shares(CONFIG, "ed", None, None)
    assert shares[1] == pytest.approx(0.01 / 2), "two descendants share the parent's visits"
    assert table.origin(1, CONFIG, "ed", None, None).kind == "inherited"
    assert table.origin(2, CONFIG, "ed", None, None).kind == "tier", "a code no visit carried means rare"
    assert shares[2] < shares[1]


def test_a_broad_class_and_a_rare_child_pass_nothing_down():
    broad = _surveyed("DOID:934", "viral infectious disease", 0.01, 0.01)
    children = [Concept(f"DOID:{i}", NodeLabel.DISEASE, f"virus {i}") for i in range(MAX_DESCENDANTS + 1)]
    rare = Concept("ORPHA:9", NodeLabel.DISEASE, "rare child")
    parents = {c.id: ["DOID:934"] for c in children} | {"ORPHA:9": ["DOID:934"]}
    table = _table([broad, *children, rare], parents, [COMMON] * (len(children) + 1) + [RARE])
    assert (table.inherited_from < 0).all()
    shares = table.shares(CONFIG, "ed", None, None)
    floor = table.floor["ed"]
    assert shares[1] == pytest.approx(floor)
    assert shares[-1] == pytest.approx(floor / dict(CONFIG.prior_weights)[COMMON]), "rare is the common floor / 30"


def test_log_priors_are_normalised_and_follow_the_shares_at_the_temperature():
    table = _table([_surveyed("D:1", "a", 0.03, 0.03), _surveyed("D:2", "b", 0.01, 0.01)])
    as_surveyed = table.log_priors(replace(CONFIG, prior_temperature=1.0), "ed")
    assert math.isclose(float(np.exp(as_surveyed).sum()), 1.0)
    assert as_surveyed[0] - as_surveyed[1] == pytest.approx(math.log(3))
    flattened = table.log_priors(replace(CONFIG, prior_temperature=0.5), "ed")
    assert flattened[0] - flattened[1] == pytest.approx(0.5 * math.log(3))
