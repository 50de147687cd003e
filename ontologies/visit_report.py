"""What the build report says of the visit surveys: how much of the visits, their diagnoses and their reasons
the graph took, and what it could not."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ontologies.visits import SYMPTOM, Reasons, RfvRow, Visits


def coverage_details(
    visits: Visits,
    rfv: Mapping[int, RfvRow],
    finding_of: Callable[[int], str],
    table: Reasons,
    diagnoses: tuple[Mapping[str, str], Mapping[str, str]],
    *,
    surveys: Sequence[str],
    profiled: int,
    edges: int,
    diseases_with_share: int,
    min_n: int,
) -> dict:
    """What the build report says of the surveys: how much of the visits, diagnoses and reasons the graph took.

    `diagnoses` is (diagnosis code -> graph disease, code -> why it is none)."""
    nodes_of, why_not = diagnoses
    reasons, finding_ids, reason_kinds, unknown = table
    symptomatic = table.symptomatic()
    weight = visits.weight
    primary = visits.diagnoses[:, 0]
    weights_total = float(weight.sum()) or 1.0
    to_disease = np.array([c in nodes_of for c in primary.tolist()])
    own_findings = {finding_of(r.code) for r in rfv.values()}
    mapped_columns = [i for i, f in enumerate(finding_ids) if f not in own_findings]
    reasons_why = sorted(set(why_not.values()))
    why_index = np.array([reasons_why.index(why_not[c]) if c in why_not else -1 for c in primary.tolist()])
    why_weight = np.bincount(why_index[why_index >= 0], weights=weight[why_index >= 0], minlength=len(reasons_why))
    unresolved = dict(zip(reasons_why, why_weight.tolist(), strict=True))
    no_diagnosis = float(weight[primary == ""].sum())
    top_unknown = sorted(unknown.items(), key=lambda kv: -kv[1])[:10]
    own = {r.code: r for r in rfv.values() if r.kind == SYMPTOM and not r.finding}
    own_weight = {code: float(visits.weight[(visits.rfv == code).any(axis=1)].sum()) for code in own}
    top_own = sorted(((c, w) for c, w in own_weight.items() if w > 0), key=lambda kv: -kv[1])[:10]
    return {
        "visits": len(visits),
        "surveys": list(surveys),
        "diseases_with_reason_profile": profiled,
        "reason_edges": edges,
        "diseases_with_visit_share": diseases_with_share,
        "visits with a symptom among their reasons (these count)": round(
            float(weight[symptomatic].sum()) / weights_total, 4
        ),
        "visits with a complaint whose complaints include an HPO/SYMP finding": round(
            float(weight[np.asarray(reasons[:, mapped_columns].sum(axis=1)).ravel() > 0].sum())
            / (float(weight[symptomatic].sum()) or 1.0),
            4,
        ),
        "primary_diagnosis_to_graph_disease": round(float(weight[to_disease].sum()) / weights_total, 4),
        **{
            f"primary_diagnosis: {reason}": round(value / weights_total, 4)
            for reason, value in sorted(unresolved.items())
        },
        "primary_diagnosis: none recorded": round(no_diagnosis / weights_total, 4),
        **{f"reasons: {kind}": round(share, 4) for kind, share in sorted(reason_kinds.items())},
        "reasons kept as own RFV findings (top 10 by weight)": [
            f"RFV:{code} {own[code].label} ({w / weights_total:.2%} of visits)" for code, w in top_own
        ],
        "reason codes not in our table (top 10 by weight)": [
            f"{code} ({w / weights_total:.2%})" for code, w in top_unknown
        ],
        "min_n": min_n,
    }
