"""Survey visits -> reason profiles and visit shares per graph disease (pure; numpy and scipy only).

- A visit counts for the disease its primary (first-listed) diagnosis becomes:
  secondary diagnoses are often chronic comorbidities that the reasons for the
  visit say nothing about. Only visits with at least one symptom among their
  reasons count: a differential is asked for a patient with complaints, and a
  follow-up visit for a known condition ("progress visit", "medication
  refill") says nothing about how that condition presents or how often it
  explains a complaint.
- P(reason | disease) is the survey-weighted share of the disease's visits that
  give the reason. It is smoothed with a Beta prior of `PRIOR_VISITS`
  effective visits towards the same share in the disease's ICD-10-CM
  category, which is smoothed the same way towards its chapter letter, which
  is smoothed towards all diagnosed visits. Effective visits are Kish's
  (sum w)^2 / sum w^2.
- A reason becomes an edge only when at least `MIN_N` visits (unweighted) give
  it with the diagnosis. Per-setting and per-setting-and-age-band shares ride
  on the edge where the disease has at least `MIN_STRATUM_VISITS` visits in
  the stratum, smoothed towards the overall share.
- A disease's visit share (how often it is the primary diagnosis of a visit)
  is kept per setting and per setting, age band and sex. A stratum's share is
  the posterior mean of a Gamma-Poisson model whose prior (shape
  `SHARE_SHAPE`) has the setting's share as its mean, so a stratum with few
  visits keeps close to the setting's share and one with many follows its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import beta

from cdss.types import EdgeType, NodeLabel
from ontologies.model import Derived, GraphLookup, Link, SourceRelease
from ontologies.visit_report import coverage_details
from ontologies.visits import (
    AGE_BANDS,
    SETTING_NAMES,
    SEX_NAMES,
    SYMPTOM,
    Reasons,
    RfvRow,
    Visits,
    code_prefixes,
    diagnosis_candidates,
)

MIN_N = 5
"""Fewest visits (unweighted) giving a reason with a diagnosis for a `HAS_FINDING` edge."""
MIN_STRATUM_VISITS = 30
"""Fewest visits of a disease in a setting or age band for that stratum's own reason shares."""
PRIOR_VISITS = 10.0
"""Strength of the Beta prior towards the parent's share, in effective visits."""
SHARE_SHAPE = 2.0
"""Shape of the Gamma prior on a stratum's visit share (its mean is the setting's share)."""
DISEASE = frozenset({NodeLabel.DISEASE})
FINDING = frozenset({NodeLabel.FINDING})


@dataclass(slots=True)
class _Groups:
    """Visits grouped (one group per visit at most) with weighted and unweighted reason counts."""

    index: np.ndarray
    """Per visit: its group, or -1."""
    size: int
    weight: np.ndarray
    visits: np.ndarray
    effective: np.ndarray
    reason_weight: np.ndarray
    """groups x findings."""
    reason_visits: np.ndarray

    @classmethod
    def of(cls, index: np.ndarray, size: int, weight: np.ndarray, reasons: sparse.csr_matrix) -> _Groups:
        member = np.flatnonzero(index >= 0)
        groups = sparse.csr_matrix((np.ones(len(member)), (index[member], member)), shape=(size, len(index)))
        weights = groups @ weight
        squares = groups @ (weight**2)
        return cls(
            index=index,
            size=size,
            weight=weights,
            visits=np.asarray(groups.sum(axis=1)).ravel(),
            effective=np.divide(weights**2, squares, out=np.zeros(size), where=squares > 0),
            reason_weight=(groups @ sparse.diags(weight) @ reasons).toarray(),
            reason_visits=(groups @ reasons).toarray(),
        )

    def share(self) -> np.ndarray:
        return np.divide(
            self.reason_weight,
            self.weight[:, None],
            out=np.zeros_like(self.reason_weight),
            where=self.weight[:, None] > 0,
        )


def _smooth(share: np.ndarray, effective: np.ndarray, parent: np.ndarray, strength: float) -> np.ndarray:
    """Posterior mean of a Beta prior of `strength` visits centred on `parent`, after `effective` visits."""
    return (effective[:, None] * share + strength * parent) / (effective[:, None] + strength)


def _interval(
    share: np.ndarray, effective: float, parent: np.ndarray, strength: float
) -> tuple[np.ndarray, np.ndarray]:
    a = effective * share + strength * parent
    b = effective * (1 - share) + strength * (1 - parent)
    a, b = np.maximum(a, 1e-6), np.maximum(b, 1e-6)
    return beta.ppf(0.025, a, b), beta.ppf(0.975, a, b)


def _reason_matrix(visits: Visits, rfv: Mapping[int, RfvRow], finding_of: Callable[[int], str]) -> Reasons:
    finding_index: dict[str, int] = {}
    rows, cols = [], []
    by_kind: dict[str, float] = defaultdict(float)
    unknown: dict[int, float] = defaultdict(float)
    for column in range(visits.rfv.shape[1]):
        codes = visits.rfv[:, column]
        for code in np.unique(codes[codes > 0]).tolist():
            at = np.flatnonzero(codes == code)
            weight = float(visits.weight[at].sum())
            row = rfv.get(code)
            if row is None:
                unknown[code] += weight
                by_kind["not in our table"] += weight
                continue
            if row.kind != SYMPTOM:
                by_kind[row.kind] += weight
                continue
            by_kind["symptom: HPO/SYMP finding" if row.finding else "symptom: own RFV finding"] += weight
            finding = row.finding or finding_of(code)
            column_index = finding_index.setdefault(finding, len(finding_index))
            rows.extend(at.tolist())
            cols.extend([column_index] * len(at))
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(visits), len(finding_index)))
    matrix.data[:] = 1.0
    matrix.sum_duplicates()
    matrix.data = np.minimum(matrix.data, 1.0)
    total = sum(by_kind.values()) or 1.0
    return Reasons(matrix, list(finding_index), {k: v / total for k, v in by_kind.items()}, dict(unknown))


def _resolve_diagnoses(
    codes: Sequence[str], lookup: GraphLookup, overrides: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """code -> graph disease, and code -> why it is no disease (a symptom code, not in the graph)."""
    nodes: dict[str, str] = {}
    why: dict[str, str] = {}
    for code in codes:
        node = lookup.resolve(diagnosis_candidates(code, overrides), DISEASE)
        if node is not None:
            nodes[code] = node
        elif lookup.resolve(tuple(f"ICD10CM:{p}" for p in code_prefixes(code)), FINDING) is not None:
            why[code] = "a symptom or sign (ICD-10-CM chapter R)"
        else:
            why[code] = "not a disease in the graph (health factors, external causes, unknown codes)"
    return nodes, why


def derive_visit_statistics(
    lookup: GraphLookup,
    *,
    visits: Visits,
    rfv: Mapping[int, RfvRow],
    overrides: Mapping[str, str],
    release: SourceRelease,
    surveys: Sequence[str],
    finding_of: Callable[[int], str],
) -> Derived:
    """Reason profiles (`HAS_FINDING` links) and visit shares (node attributes) per graph disease."""
    derived = Derived()
    table = _reason_matrix(visits, rfv, finding_of)
    reasons, finding_ids = table.matrix, table.finding_ids
    primary = visits.diagnoses[:, 0]
    codes = sorted({c for c in primary.tolist() if c})
    nodes_of, why_not = _resolve_diagnoses(codes, lookup, overrides)
    symptomatic = table.symptomatic()
    node_ids = sorted({nodes_of[c] for c in primary[symptomatic].tolist() if c in nodes_of})
    node_index = {n: i for i, n in enumerate(node_ids)}
    code_node = np.array(
        [
            node_index[nodes_of[c]] if c in nodes_of and s else -1
            for c, s in zip(primary.tolist(), symptomatic, strict=True)
        ]
    )

    by_node, node_raw, node_parent, node_share = _smoothed_profiles(visits, primary, code_node, len(node_ids), reasons)

    band = visits.age_band()
    strata = _stratum_shares(visits, band, code_node, len(node_ids), reasons, node_share)
    provenance = release.provenance(evidence=("survey-weighted visit counts",), references=tuple(surveys))
    derived.links, profiled = _reason_links(
        node_ids, finding_ids, by_node, node_raw, node_share, node_parent, strata, provenance, surveys
    )
    edges = len(derived.links)
    derived.node_attributes = _visit_shares(visits, band, code_node, symptomatic, node_ids, surveys)
    derived.details = coverage_details(
        visits,
        rfv,
        finding_of,
        table,
        (nodes_of, why_not),
        surveys=surveys,
        profiled=len(profiled),
        edges=edges,
        diseases_with_share=len(node_ids),
        min_n=MIN_N,
    )
    derived.notes.append(
        f"{len(profiled):,} diseases with a reason profile ({edges:,} edges, n >= {MIN_N}); "
        f"{len(node_ids):,} with a visit share; the primary diagnosis of "
        f"{derived.details['primary_diagnosis_to_graph_disease']:.1%} of weighted visits is a graph disease"
    )
    mapped = table.kinds.get("symptom: HPO/SYMP finding", 0.0)
    derived.notes.append(
        f"reasons for visit: {mapped:.1%} of weighted mentions map to HPO/SYMP findings, "
        f"{table.kinds.get('symptom: own RFV finding', 0.0):.1%} to our own RFV findings; "
        f"{len(table.unknown)} codes are not in {'namcs_rfv.tsv'}"
    )
    return derived


def _smoothed_profiles(visits: Visits, primary: np.ndarray, code_node: np.ndarray, n_nodes: int, reasons):
    """Each disease's reason shares, raw and smoothed: the disease towards its ICD-10-CM category, the
    category towards its chapter letter, the letter towards all visits (Beta priors of `PRIOR_VISITS`)."""
    diagnosed = code_node >= 0
    categories = np.array([c[:3] if c else "" for c in primary.tolist()], dtype=object)
    letters = np.array([c[:1] if c else "" for c in primary.tolist()], dtype=object)
    category_names = sorted({c for c in categories[diagnosed].tolist()})
    letter_names = sorted({c for c in letters[diagnosed].tolist()})
    category_of = {c: i for i, c in enumerate(category_names)}
    letter_of = {c: i for i, c in enumerate(letter_names)}
    category_index = np.array([category_of.get(c, -1) if d else -1 for c, d in zip(categories, diagnosed, strict=True)])
    letter_index = np.array([letter_of.get(c, -1) if d else -1 for c, d in zip(letters, diagnosed, strict=True)])

    weight = visits.weight
    everyone = _Groups.of(np.where(diagnosed, 0, -1), 1, weight, reasons)
    by_letter = _Groups.of(letter_index, len(letter_names), weight, reasons)
    by_category = _Groups.of(category_index, len(category_names), weight, reasons)
    by_node = _Groups.of(code_node, n_nodes, weight, reasons)
    base = everyone.share()[0]
    letter_share = _smooth(by_letter.share(), by_letter.effective, base[None, :], PRIOR_VISITS)
    category_parent = letter_share[[letter_of[c[:1]] for c in category_names]]
    category_share = _smooth(by_category.share(), by_category.effective, category_parent, PRIOR_VISITS)
    # A disease's parent is the category most of its visits come from.
    pairs = code_node[diagnosed] * len(category_names) + category_index[diagnosed]
    node_category = (
        np.bincount(pairs, minlength=n_nodes * len(category_names)).reshape(n_nodes, len(category_names)).argmax(axis=1)
    )
    node_parent = category_share[node_category]
    node_raw = by_node.share()
    node_share = _smooth(node_raw, by_node.effective, node_parent, PRIOR_VISITS)

    return by_node, node_raw, node_parent, node_share


def _reason_links(
    node_ids, finding_ids, by_node, node_raw, node_share, node_parent, strata, provenance, surveys
) -> tuple[list[Link], set[int]]:
    """One `HAS_FINDING` link per disease and reason seen in at least `MIN_N` visits, with its interval and strata;
    and the diseases that got one."""
    links: list[Link] = []
    profiled: set[int] = set()
    for node in range(len(node_ids)):
        for finding in np.flatnonzero(by_node.reason_visits[node] >= MIN_N).tolist():
            low, high = _interval(
                node_raw[node, finding : finding + 1],
                by_node.effective[node],
                node_parent[node, finding : finding + 1],
                PRIOR_VISITS,
            )
            attributes = {
                "relation": "reason_for_visit",
                "frequency": round(float(node_share[node, finding]), 5),
                "frequency_kind": "survey_weighted",
                "frequency_weighted_raw": round(float(node_raw[node, finding]), 5),
                "frequency_ci95": [round(float(low[0]), 5), round(float(high[0]), 5)],
                "frequency_n": int(by_node.reason_visits[node, finding]),
                "frequency_m": int(by_node.visits[node]),
                "setting": "ed+office",
                "surveys": list(surveys),
                "smoothing": f"Beta prior of {PRIOR_VISITS:g} effective visits towards the ICD-10-CM category",
                "min_n": MIN_N,
            }
            names, shares, counts, totals = [], [], [], []
            for name, (share, n, m) in strata.get((node, finding), {}).items():
                names.append(name)
                shares.append(round(share, 5))
                counts.append(n)
                totals.append(m)
            if names:
                attributes.update(strata=names, strata_frequency=shares, strata_n=counts, strata_m=totals)
            links.append(
                Link.between(EdgeType.HAS_FINDING, node_ids[node], finding_ids[finding], provenance, attributes)
            )
            profiled.add(node)

    return links, profiled


def _stratum_shares(
    visits: Visits,
    band: np.ndarray,
    code_node: np.ndarray,
    n_nodes: int,
    reasons: sparse.csr_matrix,
    overall: np.ndarray,
) -> dict[tuple[int, int], dict[str, tuple[float, int, int]]]:
    """(node, finding) -> stratum name -> (smoothed share, n, m), for strata with enough visits."""
    out: dict[tuple[int, int], dict[str, tuple[float, int, int]]] = defaultdict(dict)
    strata = [(s, None) for s in range(len(SETTING_NAMES))] + [
        (s, b) for s in range(len(SETTING_NAMES)) for b in range(len(AGE_BANDS))
    ]
    for setting, age in strata:
        inside = (visits.setting == setting) & ((band == age) if age is not None else True)
        groups = _Groups.of(np.where(inside, code_node, -1), n_nodes, visits.weight, reasons)
        name = SETTING_NAMES[setting] + (f"|{AGE_BANDS[age][2]}" if age is not None else "")
        share = _smooth(groups.share(), groups.effective, overall, PRIOR_VISITS)
        for node in np.flatnonzero(groups.visits >= MIN_STRATUM_VISITS).tolist():
            for finding in np.flatnonzero(groups.reason_visits[node] >= MIN_N).tolist():
                out[(node, finding)][name] = (
                    float(share[node, finding]),
                    int(groups.reason_visits[node, finding]),
                    int(groups.visits[node]),
                )
    return out


def _visit_shares(
    visits: Visits,
    band: np.ndarray,
    code_node: np.ndarray,
    symptomatic: np.ndarray,
    node_ids: Sequence[str],
    surveys: Sequence[str],
) -> dict[str, dict]:
    """Per disease: its share of each setting's visits with a complaint, and of each setting x age band x sex
    stratum of them."""
    n_nodes = len(node_ids)
    diagnosed = code_node >= 0
    out: dict[str, dict] = {node: {} for node in node_ids}
    strata_names, strata_share, strata_n = [], [], []
    for setting, setting_name in enumerate(SETTING_NAMES):
        in_setting = (visits.setting == setting) & symptomatic
        total = float(visits.weight[in_setting].sum())
        if total <= 0:
            continue
        mask = in_setting & diagnosed
        weight = np.bincount(code_node[mask], weights=visits.weight[mask], minlength=n_nodes)
        count = np.bincount(code_node[mask], minlength=n_nodes)
        # A disease not seen in this setting is given half a visit, not none.
        floor = 0.5 / int(in_setting.sum())
        setting_share = np.maximum(weight / total, floor)
        for node, node_id in enumerate(node_ids):
            out[node_id][f"visit_share_{setting_name}"] = round(float(weight[node] / total), 9)
            out[node_id][f"visit_n_{setting_name}"] = int(count[node])
        for b, (_, _, band_name) in enumerate(AGE_BANDS):
            for sex, sex_name in enumerate(SEX_NAMES):
                inside = in_setting & (band == b) & (visits.sex == sex)
                visits_in = int(inside.sum())
                if not visits_in:
                    continue
                mean_weight = float(visits.weight[inside].mean())
                mask = inside & diagnosed
                w = np.bincount(code_node[mask], weights=visits.weight[mask], minlength=n_nodes)
                c = np.bincount(code_node[mask], minlength=n_nodes)
                share = (SHARE_SHAPE + w / mean_weight) / (SHARE_SHAPE / setting_share + visits_in)
                strata_names.append(f"{setting_name}|{band_name}|{sex_name}")
                strata_share.append(share)
                strata_n.append(c)
    for node, node_id in enumerate(node_ids):
        out[node_id]["visit_strata"] = list(strata_names)
        out[node_id]["visit_share_by_stratum"] = [round(float(s[node]), 9) for s in strata_share]
        out[node_id]["visit_n_by_stratum"] = [int(c[node]) for c in strata_n]
        out[node_id]["visit_share_source"] = (
            f"{', '.join(surveys)}: survey-weighted share of visits with a complaint whose primary diagnosis this is"
        )
    return out
