"""How often each disease is seen: the prior of the differential.

A disease's prior is its share of visits in the national surveys (NAMCS for
primary care, NHAMCS for emergency departments; node attributes written by
the `namcs_nhamcs` source), for the case's setting and, where the case gives
them, its age band and sex:

- `unknown` setting: the mean of the two settings' shares;
- a common-tier disease with no survey share and no ICD-10-CM code of its
  own inherits one from its nearest `IS_A` ancestor that has one (at most
  `INHERIT_DEPTH` levels up), divided by the number of that ancestor's
  descendants: its visits were coded under the ancestor's code. Only an
  ancestor with at most `MAX_DESCENDANTS` descendants passes a share down: a
  broad class ("viral infectious disease", 111 kinds) is coded for visits
  whose cause was not found, which say nothing about its rare kinds. A
  disease with an ICD-10-CM code that no sampled visit carried, or a rare one
  (OMIM, Orphanet), inherits nothing;
- a disease with neither falls back to its tier (`ranking.knowledge.disease_tier`):
  a common disease gets half a visit's share (the least a survey could have
  shown), a rare or a DDXPlus one that times the tier weights' ratio to the
  common tier.

Every prior comes with where it came from, so an answer can show it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cdss.types import Concept
from ranking.config import COMMON, RankingConfig

SETTINGS = ("ed", "primary_care", "unknown")
SURVEY_SETTINGS = {"ed": "ed", "primary_care": "office"}
AGE_BANDS = ((0.0, 5.0, "0-4"), (5.0, 18.0, "5-17"), (18.0, 65.0, "18-64"), (65.0, float("inf"), "65+"))
SEXES = ("female", "male")
INHERIT_DEPTH = 2
MAX_DESCENDANTS = 20
SOURCE = "namcs_nhamcs"


def age_band(age: float | None) -> str | None:
    if age is None:
        return None
    for low, high, name in AGE_BANDS:
        if low <= age < high:
            return name
    return None


@dataclass(frozen=True, slots=True)
class PriorOrigin:
    """Where one disease's prior came from."""

    kind: str
    """`survey` (its own visit share), `inherited` (a share of an ancestor's) or `tier`."""
    detail: str
    share: float

    def to_dict(self) -> dict:
        return {"kind": self.kind, "share_of_visits": float(f"{self.share:.3g}"), "detail": self.detail}


class PriorTable:
    """Per disease: survey visit shares by setting and stratum, inherited shares, tier fallbacks."""

    def __init__(
        self,
        disease_ids: Sequence[str],
        concepts: Mapping[str, Concept],
        parents: Mapping[str, Sequence[str]],
        tiers: Sequence[str],
    ) -> None:
        self.disease_ids = list(disease_ids)
        self.tiers = list(tiers)
        self.names = {d: concepts[d].name if d in concepts else d for d in disease_ids}
        n = len(self.disease_ids)
        self.strata: list[str] = []
        self.share = {s: np.full(n, np.nan) for s in SURVEY_SETTINGS.values()}
        self.n = {s: np.zeros(n, dtype=np.int64) for s in SURVEY_SETTINGS.values()}
        stratum_rows: dict[int, list[float]] = {}
        self.survey_label = ""
        index = {d: i for i, d in enumerate(self.disease_ids)}
        for disease, i in index.items():
            attributes = concepts[disease].attributes if disease in concepts else {}
            if "visit_share_ed" not in attributes:
                continue
            for setting in self.share:
                self.share[setting][i] = float(attributes[f"visit_share_{setting}"])
                self.n[setting][i] = int(attributes[f"visit_n_{setting}"])
            if not self.strata:
                self.strata = list(attributes.get("visit_strata", []))
                self.survey_label = str(attributes.get("visit_share_source", ""))
            stratum_rows[i] = list(attributes.get("visit_share_by_stratum", []))
        self.stratum_share = np.full((n, len(self.strata)), np.nan)
        for i, values in stratum_rows.items():
            if len(values) == len(self.strata):
                self.stratum_share[i] = values
        # Half a typical visit's share: the least a survey could have shown.
        self.floor = {}
        for setting, values in self.share.items():
            seen = self.n[setting] > 0
            per_visit = values[seen] / self.n[setting][seen]
            self.floor[setting] = 0.5 * float(np.median(per_visit)) if len(per_visit) else 1e-6
        self.has_own = ~np.isnan(self.share["ed"])
        coded = {d for d in disease_ids if d.startswith("ICD10CM:")} | {
            d for d, c in concepts.items() if any(x.startswith("ICD10CM:") for x in c.xrefs)
        }
        self.inherited_from, self.inherited_fraction = self._inherit(index, parents, coded)

    def _inherit(
        self, index: Mapping[str, int], parents: Mapping[str, Sequence[str]], coded: set[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest ancestor with a survey share (within `INHERIT_DEPTH`), and the fraction of it passed down,
        for diseases with no ICD-10-CM code of their own."""
        children: dict[str, set[str]] = {}
        for child, ps in parents.items():
            for parent in ps:
                children.setdefault(parent, set()).add(child)
        descendants: dict[str, int] = {}

        def count(node: str) -> int:
            if node not in descendants:
                seen: set[str] = set()
                stack = list(children.get(node, ()))
                while stack:
                    below = stack.pop()
                    if below not in seen:
                        seen.add(below)
                        stack.extend(children.get(below, ()))
                descendants[node] = len(seen)
            return descendants[node]

        source = np.full(len(self.disease_ids), -1)
        fraction = np.zeros(len(self.disease_ids))
        for disease, i in index.items():
            if self.has_own[i] or disease in coded or self.tiers[i] != COMMON:
                continue
            frontier = [disease]
            for _ in range(INHERIT_DEPTH):
                owners = sorted(
                    {
                        p
                        for node in frontier
                        for p in parents.get(node, ())
                        if p in index and self.has_own[index[p]] and count(p) <= MAX_DESCENDANTS
                    }
                )
                if owners:
                    best = max(owners, key=lambda p: (self.share_any(index[p]) / max(count(p), 1), p))
                    source[i], fraction[i] = index[best], 1.0 / max(count(best), 1)
                    break
                frontier = sorted({p for node in frontier for p in parents.get(node, ())})
        return source, fraction

    def share_any(self, disease: int) -> float:
        """A disease's survey share averaged over the settings (for choosing among ancestors)."""
        return float(np.mean([np.nan_to_num(v[disease]) for v in self.share.values()]))

    def _stratum_columns(self, setting: str, band: str | None, sex: str | None) -> list[int]:
        wanted = []
        for position, name in enumerate(self.strata):
            s, b, x = name.split("|")
            if s == setting and (band is None or b == band) and (sex is None or x == sex):
                wanted.append(position)
        return wanted

    def _setting_share(self, setting: str, band: str | None, sex: str | None) -> np.ndarray:
        """Own survey share for one survey setting, in the case's stratum where it has one."""
        base = self.share[setting].copy()
        if band is None and sex is None:
            return base
        columns = self._stratum_columns(setting, band, sex)
        if not columns:
            return base
        base[self.has_own] = self.stratum_share[self.has_own][:, columns].mean(axis=1)
        return base

    def shares(self, config: RankingConfig, setting: str, age: float | None, sex: str | None) -> np.ndarray:
        """Every disease's share of visits under the case's setting, age and sex (never zero)."""
        return self._shares(config.prior_weights, setting, age_band(age), sex)

    @lru_cache(maxsize=64)  # noqa: B019 - one table per graph version, kept for the process
    def _shares(self, weights: tuple, setting: str, band: str | None, sex: str | None) -> np.ndarray:
        surveys = list(SURVEY_SETTINGS.values()) if setting == "unknown" else [SURVEY_SETTINGS[setting]]
        own = np.zeros(len(self.disease_ids))
        floor = 0.0
        for survey in surveys:
            share = self._setting_share(survey, band, sex)
            own += np.where(self.has_own, np.maximum(np.nan_to_num(share), self.floor[survey]), 0.0)
            floor += self.floor[survey]
        own /= len(surveys)
        floor /= len(surveys)
        ratio = dict(weights)
        tier_share = np.array([floor * ratio[t] / ratio[COMMON] for t in self.tiers])
        inherited = np.where(
            self.inherited_from >= 0, own[np.maximum(self.inherited_from, 0)] * self.inherited_fraction, 0.0
        )
        out = np.where(self.has_own, own, np.maximum(inherited, tier_share))
        return out

    def log_priors(
        self, config: RankingConfig, setting: str = "unknown", age: float | None = None, sex: str | None = None
    ) -> np.ndarray:
        """Normalised log priors."""
        raw = config.prior_temperature * np.log(self.shares(config, setting, age, sex))
        return raw - (np.log(np.exp(raw - raw.max()).sum()) + raw.max())

    def origin(
        self, disease: int, config: RankingConfig, setting: str, age: float | None, sex: str | None
    ) -> PriorOrigin:
        share = float(self.shares(config, setting, age, sex)[disease])
        band = age_band(age)
        where = ", ".join(
            x
            for x in (
                setting if setting != "unknown" else "ED and primary care averaged",
                f"age {band}" if band else "",
                sex or "",
            )
            if x
        )
        if self.has_own[disease]:
            counts = ", ".join(f"{s} n={int(self.n[s][disease])}" for s in self.n)
            return PriorOrigin("survey", f"{self.survey_label}; {where}; {counts}", share)
        source = int(self.inherited_from[disease])
        inherited = (
            source >= 0
            and share > 0
            and math.isclose(
                share,
                float(self.shares(config, setting, age, sex)[source]) * float(self.inherited_fraction[disease]),
                rel_tol=1e-9,
            )
        )
        if inherited:
            parent = self.disease_ids[source]
            return PriorOrigin(
                "inherited",
                f"{self.inherited_fraction[disease]:.3g} of the visit share of {parent} {self.names[parent]} "
                f"(no survey share of its own; {where})",
                share,
            )
        tier = self.tiers[disease]
        return PriorOrigin(
            "tier",
            f"{tier} disease with no survey share: the tier rule (common = half a visit in the surveys; "
            f"tier weights {dict(config.prior_weights)})",
            share,
        )
