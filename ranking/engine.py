"""The ranking engine: one object the API and the CLI share, loaded once per process.

It holds the compiled knowledge and the treatment index, and is given (never
loads) a `TextReader` for case text and a learned `LinkScorer`: `runtime`
wires those. `rank` turns a case into a differential with treatments,
contributions, evidence and the next questions to ask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from cdss import __version__
from cdss.errors import ConfigError, InputError, NotFoundError, NothingToRankError
from cdss.settings import Settings
from cdss.types import Mention, NodeLabel
from kg.lookup import resolve
from kg.store import GraphStore
from ontologies.cxr import cxr_label_map
from ranking.allergies import Allergy, allergy_conflict, resolve_allergies
from ranking.case import Case
from ranking.config import PredictionPolicy, RankingConfig, config_from_settings
from ranking.diagnosis import (
    Diagnosis,
    Question,
    contributions,
    genotype_part,
    next_questions,
    score_observations,
    top_diseases,
)
from ranking.genotype import tied
from ranking.knowledge import Knowledge, build_knowledge
from ranking.learned import LearnedUpdate
from ranking.likelihood import LikelihoodModel
from ranking.observations import ResolvedCase, case_notes, nothing_to_rank, resolve_case
from ranking.predicted_links import sparse_profile_links, with_predicted_links
from ranking.related import RelatedIndex, build_related_index, related_diseases
from ranking.treatment_index import TherapyIndex, build_therapy
from ranking.treatments import Leading, LeftOut, TreatmentOption, treatment_options

log = logging.getLogger(__name__)

NOTICE = (
    "Decision support for a qualified clinician, not a diagnosis: every suggestion must be checked "
    "against the patient, and the evidence behind it read."
)
TREATED_DIAGNOSES = 5
HYPOTHESES = 5
QUESTION_CANDIDATES = 5


class TextReader(Protocol):
    """Case text in, mentions out (the NLP pipeline, wired by `runtime`)."""

    version: str

    def read(self, texts: Iterable[str]) -> Iterator[list[Mention]]:
        """The mentions of each text, in order."""


class LinkScorer(Protocol):
    """Learned disease-finding and drug-disease link scores (the GNN issue fills this)."""

    version: str

    def finding_log_odds(self, finding_ids: Sequence[str], disease_ids: Sequence[str]) -> np.ndarray:
        """findings x diseases: how much more likely each link is than the model's base rate (natural log)."""

    def treatment_score(self, drug_id: str, disease_id: str) -> float | None:
        """Probability that the drug treats the disease, or None when either is unknown to the model."""

    def top_drugs(self, disease_id: str, *, limit: int = 10) -> list[tuple[str, float]]:
        """The drugs the model scores highest for the disease, with their probabilities."""

    def top_findings(self, disease_id: str, *, limit: int = 10) -> list[tuple[str, float]]:
        """The findings the model scores highest for the disease, with their probabilities."""


@dataclass(slots=True)
class RankResult:
    case_id: str
    diagnoses: list[Diagnosis]
    treatments: list[TreatmentOption]
    treatments_left_out: list[LeftOut]
    next_questions: list[Question]
    hypotheses: list[dict]
    resolved: ResolvedCase
    versions: dict[str, str | None]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)

    def to_dict(self) -> dict:
        r = self.resolved
        return {
            "id": self.case_id,
            "notice": NOTICE,
            "diagnoses": [{**d.to_dict(), "versions": self.versions} for d in self.diagnoses],
            "treatments": [{**t.to_dict(), "versions": self.versions} for t in self.treatments],
            "treatments_left_out": [t.to_dict() for t in self.treatments_left_out],
            "learned_treatment_hypotheses": self.hypotheses,
            "next_questions": [q.to_dict() for q in self.next_questions],
            "observations": [o.to_dict() for o in r.observations],
            "not_used": r.not_used,
            "known_conditions": [{"id": c.id, "name": c.name} for c in r.known_conditions],
            "ruled_out": [{"id": c.id, "name": c.name} for c in r.ruled_out],
            "medications": r.medications,
            "allergies": [a.to_dict() for a in self.allergies],
            "unknown_image_labels": r.unknown_image_labels,
            "genes": [g.to_dict() for g in r.genes],
            "unknown_genes": r.unknown_genes,
            "mentions": [m.to_dict() for m in r.mentions],
            "notes": self.notes,
            "versions": self.versions,
        }


class Engine:
    def __init__(
        self,
        store: GraphStore,
        knowledge: Knowledge,
        therapy: TherapyIndex,
        *,
        config: RankingConfig,
        reader: TextReader | None = None,
        link_scorer: LinkScorer | None = None,
    ) -> None:
        self.store = store
        self.curated = knowledge
        """What the graph states; `knowledge` adds the link model's predictions when the config asks for them."""
        self.knowledge = _with_predictions(knowledge, link_scorer, config.predicted_links)
        self.therapy = therapy
        self.config = config
        self.model = LikelihoodModel(self.knowledge, config)
        self.reader = reader
        self.link_scorer = link_scorer
        self.labels = cxr_label_map()
        self._related: RelatedIndex | None = None

    @classmethod
    def load(
        cls,
        store: GraphStore,
        settings: Settings,
        *,
        config: RankingConfig | None = None,
        reader: TextReader | None = None,
        link_scorer: LinkScorer | None = None,
        learned: LearnedUpdate | None = None,
    ) -> Engine:
        """Compile the knowledge and the treatment index from the store (`runtime.load_engine` adds the reader,
        the link scorer and the learned update in use from the settings)."""
        config = config or config_from_settings(settings)
        started = time.perf_counter()
        knowledge = build_knowledge(store, default_frequency=config.default_frequency, learned=learned)
        therapy = build_therapy(store)
        log.info("ranking engine ready in %.1f s (%d diseases)", time.perf_counter() - started, knowledge.n_diseases)
        return cls(store, knowledge, therapy, config=config, reader=reader, link_scorer=link_scorer)

    def with_config(self, config: RankingConfig) -> Engine:
        """The same knowledge under other parameters (for ablations)."""
        return Engine(
            self.store, self.curated, self.therapy, config=config, reader=self.reader, link_scorer=self.link_scorer
        )

    @property
    def versions(self) -> dict[str, str | None]:
        return {
            "graph": self.knowledge.graph_version,
            "ranking": f"lr-{self.config.version}",
            "nlp": self.reader.version if self.reader is not None else None,
            "link_model": self.link_scorer.version if self.link_scorer is not None else None,
            "learned": self.curated.learned.version if self.curated.learned is not None else None,
            "cdss": __version__,
        }

    def mentions(self, texts: Iterable[str]) -> Iterator[list[Mention]]:
        if self.reader is None:
            raise ConfigError("a case has text but the NLP pipeline is not loaded")
        yield from self.reader.read(texts)

    def observe(self, case: Case, *, mentions: list[Mention] | None = None) -> ResolvedCase:
        """The case's observations and context (its text read by the NLP pipeline unless mentions are given);
        a case with nothing to rank on is refused with the reasons."""
        if case.text and mentions is None:
            mentions = next(self.mentions([case.text]))
        resolved = resolve_case(
            case, self.store, labels=self.labels, mentions=mentions, image_reference=self.config.image_reference
        )
        if not resolved.observations and not tied(self.knowledge, resolved.genes):
            raise NothingToRankError(nothing_to_rank(case, resolved))
        return resolved

    def rank(self, case: Case, *, top_k: int = 10, mentions: list[Mention] | None = None) -> RankResult:
        if not 1 <= top_k <= 100:
            raise InputError(f"top_k must be between 1 and 100, got {top_k}")
        started = time.perf_counter()
        resolved = self.observe(case, mentions=mentions)
        k = self.knowledge
        learned = None
        if self.link_scorer is not None and self.config.learned_weight > 0:
            present = [o.finding for o in resolved.observations if o.probability >= 0.5]
            if present:
                learned = self.link_scorer.finding_log_odds(present, k.disease_ids).sum(axis=0)
        prior = k.log_priors(self.config, setting=case.setting, age=case.age, sex=case.sex)
        scores = score_observations(
            self.model,
            resolved.observations,
            sex=case.sex,
            age=case.age,
            genes=resolved.genes,
            learned=learned,
            prior=prior,
        )
        ruled_out = [k.disease_index[c.id] for c in resolved.ruled_out if c.id in k.disease_index]
        if not resolved.observations and scores.genotype_gene is not None:
            # Genes alone rank the diseases tied to them, as LIRICAL's differential does; over every disease
            # the visit priors would put common complaints first.
            ruled_out += np.flatnonzero(scores.genotype_gene < 0).tolist()
        top = top_diseases(scores, top_k, exclude=ruled_out)
        posterior = scores.posterior()
        shares = posterior[top] / posterior[top].sum() if top else np.zeros(0)
        known = {c.id for c in resolved.known_conditions}
        kept_visible = self._cant_miss_below(top, posterior, ruled_out)
        explained = contributions(self.model, resolved.observations, scores, top + kept_visible)
        ranked = [
            (rank, disease, share)
            for rank, (disease, share) in enumerate(zip(top, shares.tolist(), strict=True), start=1)
        ]
        above = np.sort(scores.total)[::-1]
        ranked += [(int(np.searchsorted(-above, -scores.total[d], side="left")) + 1, d, None) for d in kept_visible]
        diagnoses = [
            self._diagnosis(case, scores, posterior, explained, known, rank, disease, share, top_k=top_k)
            for rank, disease, share in ranked
        ]
        leading = [Leading(d.id, d.name, d.rank, d.score) for d in diagnoses[:TREATED_DIAGNOSES]]
        taking = [m["id"] for m in resolved.medications if m.get("id")]
        learned_treatment = self.link_scorer.treatment_score if self.link_scorer is not None else None
        treatments, left_out = treatment_options(
            self.therapy, leading, known_conditions=sorted(known), medications=taking, learned=learned_treatment
        )
        allergies = resolve_allergies(self.store, case.allergies)
        treatments, held_back = self._without_allergens(treatments, allergies)
        left_out = held_back + left_out
        hypotheses = self._hypotheses(diagnoses[0], treatments, known) if diagnoses else []
        asked = next_questions(
            self.model,
            top[:QUESTION_CANDIDATES],
            posterior[top[:QUESTION_CANDIDATES]],
            {o.finding for o in resolved.observations},
        )
        notes = case_notes(resolved, tied(k, resolved.genes))
        return RankResult(
            case_id=case.id,
            diagnoses=diagnoses,
            treatments=treatments,
            treatments_left_out=left_out,
            next_questions=asked,
            hypotheses=hypotheses,
            resolved=resolved,
            allergies=allergies,
            versions=self.versions,
            seconds=time.perf_counter() - started,
            notes=notes,
        )

    def _without_allergens(
        self, treatments: list[TreatmentOption], allergies: list[Allergy]
    ) -> tuple[list[TreatmentOption], list[LeftOut]]:
        """The options the patient's allergies allow, and the ones held back with the reason."""
        if not allergies:
            return treatments, []
        drugs = self.store.get_nodes(sorted({t.drug for t in treatments}))
        kept, held_back = [], []
        for option in treatments:
            reason = allergy_conflict(drugs[option.drug], allergies) if option.drug in drugs else None
            if reason is None:
                kept.append(option)
            else:
                held_back.append(LeftOut(option.drug, option.name, option.target, reason, option.evidence))
        return kept, held_back

    def _diagnosis(
        self, case: Case, scores, posterior, explained, known, rank: int, disease: int, share, *, top_k: int
    ) -> Diagnosis:
        """One ranked disease with its scores, prior, contributions, genotype and, for a can't-miss one kept
        below the top k (`share` None), why it is shown."""
        k = self.knowledge
        disease_id = k.disease_ids[disease]
        urgent = k.urgent.get(disease)
        if share is None and urgent:
            urgent = {
                **urgent,
                "shown_because": (
                    f"a can't-miss diagnosis with posterior {posterior[disease]:.3f} >= "
                    f"{self.config.urgent_min_probability}, below the top {top_k}"
                ),
            }
        return Diagnosis(
            id=disease_id,
            name=k.disease_names[disease],
            rank=rank,
            score=share if share is not None else 0.0,
            probability=float(posterior[disease]),
            log_score=float(scores.total[disease]),
            log_prior=float(scores.prior[disease]),
            tier=k.tiers[disease],
            prior=k.priors.origin(disease, self.config, case.setting, case.age, case.sex).to_dict(),
            contributions=explained[disease],
            age_log_lr=float(scores.age[disease]) if scores.age is not None else 0.0,
            genotype=genotype_part(self.model, scores, disease),
            learned_log_lr=float(scores.learned[disease]) if scores.learned is not None else 0.0,
            known_condition=disease_id in known,
            urgent=urgent,
        )

    def _cant_miss_below(self, top: list[int], posterior: np.ndarray, ruled_out: list[int]) -> list[int]:
        """Can't-miss diseases outside the top k whose posterior reaches the threshold, most probable first."""
        shown = set(top) | set(ruled_out)
        picks = [
            d for d in self.knowledge.urgent if d not in shown and posterior[d] >= self.config.urgent_min_probability
        ]
        return sorted(picks, key=lambda d: (-posterior[d], d))

    def _hypotheses(self, leading: Diagnosis, treatments: list[TreatmentOption], known: set[str]) -> list[dict]:
        """Drugs the link model ranks high for the leading diagnosis that no curated edge offers."""
        if self.link_scorer is None:
            return []
        offered = {t.drug for t in treatments if t.target["id"] == leading.id}
        blocked = {d for condition in known for d in self.therapy.contraindicated.get(condition, {})}
        picks = [
            (drug, probability)
            for drug, probability in self.link_scorer.top_drugs(leading.id, limit=HYPOTHESES * 3)
            if drug not in offered and drug not in blocked and (drug, leading.id) not in self.therapy.not_indicated
        ][:HYPOTHESES]
        names = self.store.get_nodes([drug for drug, _ in picks])
        return [
            {
                "drug": drug,
                "name": names[drug].name if drug in names else drug,
                "for": {"id": leading.id, "name": leading.name, "rank": leading.rank},
                "probability": round(probability, 4),
                "basis": "learned link score only: no curated indication; a hypothesis to check, not a recommendation",
                "model": self.link_scorer.version,
            }
            for drug, probability in picks
        ]

    def rank_many(self, cases: Sequence[Case], *, top_k: int = 10) -> Iterator[RankResult | InputError]:
        """Rank a batch, running the NLP pipeline over all texts at once; a bad case yields its error."""
        texts = [c.text for c in cases if c.text]
        found = iter(self.mentions(texts)) if texts else iter(())
        for case in cases:
            mentions = next(found) if case.text else None
            try:
                yield self.rank(case, top_k=top_k, mentions=mentions)
            except InputError as error:
                yield error

    def related(self, curie: str, *, limit: int = 20) -> dict:
        matches = resolve(self.store, curie)
        diseases = [c for c, _ in matches if c.label == NodeLabel.DISEASE]
        if not diseases:
            raise NotFoundError(f"{curie!r} is not a disease in the graph")
        if len(diseases) > 1:
            raise InputError(f"{curie!r} names several diseases ({', '.join(d.id for d in diseases[:5])})")
        if self._related is None:
            self._related = build_related_index(self.curated, self.therapy)
        disease = diseases[0]
        return {
            "disease": {"id": disease.id, "name": disease.name},
            "related": related_diseases(self.curated, self.therapy, self._related, disease.id, limit=limit),
            "versions": self.versions,
            "notice": NOTICE,
        }


def _with_predictions(knowledge: Knowledge, scorer: LinkScorer | None, policy: PredictionPolicy) -> Knowledge:
    """The knowledge with the link model's predictions for sparsely annotated diseases, when the policy asks."""
    if scorer is None or policy.max_annotations <= 0:
        return knowledge
    links = sparse_profile_links(knowledge, scorer, policy)
    log.info("%d predicted links added to sparsely annotated diseases", len(links))
    return with_predicted_links(knowledge, links, frequency=policy.frequency, model=scorer.version)
