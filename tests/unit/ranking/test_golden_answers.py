"""The same answers before and after a refactor: full recommendation responses, compared with a stored copy.

The cases (hand-written ones with text, images, medications, genes, age, sex and setting, and patients
simulated with a fixed seed) go through `POST /v1/recommendations` on the hand-built ranking graph with the
real engine and NLP pipeline. Everything but version strings and timings must match
`tests/data/golden_answers.json`, floats to 1e-9. When a change is meant to alter answers, regenerate the file
with CDSS_UPDATE_GOLDEN=1 and say so in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from api.models import RecommendationResponse
from ranking import Engine
from ranking.study.simulate import Simulator
from tests.api_app import ranking_graph_app
from tests.ranking_graph import MARFAN_FEATURES

GOLDEN = Path(__file__).parents[2] / "data" / "golden_answers.json"
VOLATILE = frozenset({"versions", "seconds", "request_id"})

HAND_CASES = [
    {"findings": [{"id": "HP:0007359"}, {"id": "HP:0000365"}], "age": 40, "sex": "female"},
    {
        "findings": [
            {"id": "HP:0001945"},
            {"id": "HP:0012735", "confidence": 0.7},
            {"id": "HP:0000988", "status": "absent"},
        ]
    },
    {
        "text": "Three days of fever and cough; no rash. Temperature 36.9 C. Mother had seizures.",
        "image_findings": [{"label": "Consolidation", "probability": 0.8, "model": "chexnet"}],
        "medications": ["amoxicillin"],
        "setting": "ed",
        "top_k": 3,
    },
    {"findings": [{"id": "HP:0001250"}], "age": 2, "sex": "male", "setting": "primary_care"},
    {"findings": [{"id": "DDXPLUS:E_130"}, {"id": "HP:0000988"}], "top_k": 5},
    {
        "findings": [{"id": f} for f in MARFAN_FEATURES],
        "genes": ["FBN1", {"gene": "NOTAGENE1", "acmg": "uncertain_significance"}],
        "age": 19,
        "sex": "female",
        "top_k": 3,
    },
]


def _simulated_cases(engine: Engine) -> list[dict]:
    simulated = []
    for seed in (11, 12, 13):
        simulator = Simulator(engine.knowledge, seed=seed)
        simulated += simulator.rare_cases(diseases=6, k=2, noise=1, imprecision=0.5, negatives=1)
        simulated += simulator.common_cases(per_condition=2, k=2, negatives=1)
    return [
        {
            "findings": [
                {"id": o.finding, "status": "present" if o.probability == 1 else "absent"} for o in case.observations
            ],
            "top_k": 4,
        }
        for case in simulated
    ]


def _stable(value):
    """The answer without what legitimately changes between runs, floats rounded to 1e-9."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    app, services = ranking_graph_app(tmp_path_factory.mktemp("golden"))
    engine = services.engine
    token = services.keys.create("golden", ["read"])[1]
    client = app.test_client()
    out = []
    for body in HAND_CASES + _simulated_cases(engine):
        response = client.post("/v1/recommendations", json=body, headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 200:
            RecommendationResponse.model_validate(response.get_json())  # the documented response, enforced
        out.append({"request": body, "status": response.status_code, "answer": _stable(response.get_json())})
    services.close()
    return out


def test_answers_match_the_stored_ones(answers):
    if os.environ.get("CDSS_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(answers, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    stored = json.loads(GOLDEN.read_text())
    assert len(answers) == len(stored) >= 15
    for got, expected in zip(answers, stored, strict=True):
        assert got == expected, f"the answer to {got['request']} changed"
    assert sum(a["status"] == 200 for a in answers) >= 15, "a simulated case stating a finding both ways is refused"
