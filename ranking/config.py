"""The ranking model's parameters: every number the scores depend on, in one place.

They are part of the ranking model's version, so an answer always says which
parameters produced it. `unexplained` and `max_related_background` were chosen
on simulated patients (seed 1, reported on seed 0); `distance_discount`,
`unexplained_exponent`, `absent_budget` and the posterior's calibration on
published cases, cross-validated by diagnosis (`cdss eval tune`), and
`prior_temperature` on published vignettes; see the README. The genotype figures come from the
literature, each cited where it is set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace

from cdss.errors import InputError
from cdss.settings import Settings

RARE, COMMON, DDXPLUS = "rare", "common", "ddxplus"


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictionPolicy:
    """Which links a link model may add to sparsely annotated diseases (`ranking.predicted_links`)."""

    max_annotations: int = 0
    """Diseases with at most this many curated findings get predictions (0: none do)."""
    per_disease: int = 5
    min_probability: float = 0.9
    frequency: float = 0.25
    """A predicted link's frequency is this times the model's probability."""

    @classmethod
    def parse(cls, text: str) -> PredictionPolicy:
        """From "max curated findings,links per disease,min probability,frequency" (a command-line option)."""
        parts = [p.strip() for p in text.split(",")]
        try:
            if len(parts) != 4:
                raise ValueError
            policy = cls(
                max_annotations=int(parts[0]),
                per_disease=int(parts[1]),
                min_probability=float(parts[2]),
                frequency=float(parts[3]),
            )
        except ValueError:
            raise InputError(f"predicted links take four numbers like 10,5,0.9,0.25; got {text!r}") from None
        if policy.max_annotations < 1 or policy.per_disease < 1 or not 0 <= policy.min_probability <= 1:
            raise InputError(f"predicted links {text!r}: counts must be at least 1 and the probability within 0-1")
        return policy


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingConfig:
    default_frequency: float = 0.5
    """Frequency of a disease-finding annotation that gives none (HPO without a frequency, DO, DDXPlus)."""
    unexplained: float = 0.3
    """Likelihood ratio of a present finding that a disease neither has nor relates to through the ontology,
    for a disease with `unexplained_reference` annotations."""
    unexplained_reference: float = 30.0
    """The number of annotations at which `unexplained` applies as it stands."""
    unexplained_exponent: float = 1.0
    """How the unexplained ratio follows annotation count: ratio x (reference / count) ** exponent (0: constant).
    1 on real cases (`cdss eval tune --format phenopacket`, cross-validated by diagnosis): top-1 0.374 -> 0.381."""
    excluded: float = 0.01
    """Likelihood ratio of a present finding that a disease is curated not to have (`EXCLUDES_FINDING`)."""
    absent_floor: float = 0.02
    """Smallest P(finding absent | disease), for a finding annotated as always present."""
    absent_weight: float = 1.0
    """Weight of the evidence of an absent finding (its log-likelihood ratio is multiplied by it)."""
    absent_budget: float | None = 1.0
    """At most this many negated observations count in full; more share it (None: no limit). Published
    phenopackets list dozens of excluded findings, often ones the true disease is annotated with: counted in
    full they cost top-10 0.579 -> 0.471 (`cdss eval tune`); shared as one they cost 0.018 against ignoring
    them, which cross-validation would pick, so that a note's few pertinent negatives still count."""
    distance_discount: float = 0.25
    """Likelihood-ratio factor per IS_A step between the patient's finding and the disease's (0.4 before, chosen
    on simulated patients; 0.25 on real ones: top-10 0.575 -> 0.579, top-1 0.374 -> 0.381)."""
    max_related_background: float = 0.1
    """Findings relate through a common ancestor only when at most this share of diseases has it."""
    prior_weights: tuple[tuple[str, float], ...] = ((RARE, 1.0), (COMMON, 30.0), (DDXPLUS, 500.0))
    """Relative prior odds per disease tier (see `ranking.knowledge.disease_tier`): a rare disease is one in
    2,000 people or fewer, often far fewer; a common one in the hundreds to thousands; a DDXPlus condition
    is a frequent reason to see a doctor."""
    prior_temperature: float = 0.5
    """Exponent on the visit-share priors (1: as the surveys give them; below 1 flattens them). Measured on the
    CRAFT-MD development vignettes end to end (`cdss eval cases --format vignette`), 1 -> 0.5 raised top-10 from
    0.029 to 0.042 over all 2,004 and from 0.188 to 0.227 over the 207 whose gold has a survey share; 5-fold
    cross-validation over 1, 0.75, 0.6, 0.5, 0.4 and 0.3 picked 0.3 in every fold, within noise of 0.5 (MRR
    0.0237 against 0.0229), and 0.5 is better on the common-disease subset. Simulated rare-disease patients
    gain too (top-10 0.960 -> 0.964). Below 1 because the evidence we can read from a note is weaker than
    the patient's: findings go unread and many frequencies are a default."""
    image_reference: float = 0.1
    """Probability an image model gives a label on a typical image: its outputs are read against this,
    so 0.5 from a model whose labels are positive on one image in ten is evidence for the finding."""
    causal_gene_yield: float = 0.9
    """P(a test of the disease's gene finds the patient's causal variant | the disease), split evenly among the
    genes a disease is tied to. FBN1 sequencing finds it in 90-93% of people with classic Marfan syndrome
    (GeneReviews, FBN1-related Marfan syndrome, table 2: Loeys et al. 2004, 93%; Baetens et al. 2011, 91%)."""
    gene_background: float = 0.01
    """P(a person carries a rare damaging variant in any one gene, whatever the cause of their illness). A
    genome holds about 100 genuine loss-of-function variants (MacArthur et al., Science 2012) over some 20,000
    protein-coding genes, 0.005 per gene; doubled for damaging missense variants. LIRICAL (Robinson et al.,
    AJHG 2020) estimates it per gene from gnomAD; the graph has no per-gene figure."""
    acmg_probabilities: tuple[tuple[str, float], ...] = (
        ("pathogenic", 0.99),
        ("likely_pathogenic", 0.90),
        ("uncertain_significance", 0.10),
        ("likely_benign", 0.01),
        ("benign", 0.001),
    )
    """P(the variant is pathogenic) per ACMG class, from the Bayesian reading of the ACMG/AMP rules (Tavtigian
    et al., Genet Med 2018): pathogenic above 0.99 and likely pathogenic 0.90-0.99, each taken at its lower
    bound; a VUS at the prior, 0.10, the least its range allows; likely benign 0.001-0.10, taken at 0.01 so
    that it counts below a VUS; benign below 0.001, taken at 0.001."""
    younger_than_onset: float = 0.2
    """Likelihood ratio for a patient younger than the earliest onset the disease is annotated with."""
    posterior_temperature: float = 3.15
    """Log scores are divided by it before they become probabilities; with `unknown_log_score`, fitted on the
    phenopackets-dev cases by `cdss eval tune` (expected calibration error of the top probability 0.272 -> 0.135,
    cross-validated by diagnosis)."""
    unknown_log_score: float | None = 3.145
    """Scaled log score of an outcome standing for a disease the graph does not know (None: no such outcome)."""
    urgent_min_probability: float = 0.01
    """A can't-miss diagnosis with at least this posterior is shown even below the top k, with why."""
    ontology: bool = True
    """Relate findings through the hierarchy (off: exact matches only, for ablation)."""
    negatives: bool = True
    """Use absent findings and curated exclusions (off: for ablation)."""
    predicted_links: PredictionPolicy = PredictionPolicy()
    """Off by default: with the link model trained on graph e69efb30, adding up to 5 predicted findings at
    p >= 0.9 to diseases with at most 10 curated ones left the 4,590 phenopackets where they were (top-10
    0.5606 -> 0.5599, MRR 0.4391 -> 0.4392; `cdss eval cases --methods cdss,cdss+predicted`) and the
    simulated partial-knowledge cases too (top-10 0.700 -> 0.707, MRR 0.494 -> 0.492; `cdss gnn compare`)."""
    learned_weight: float = 0.0
    """Weight of the GNN's diagnosis log-odds when a link model is attached. Off by default: on the same
    simulated cases with 30% of their diseases' annotations hidden from both, adding them at 0.25, 0.5 or 1
    lowered top-10 from 0.700 to 0.667, 0.587 and 0.457 (`cdss gnn compare`, graph e69efb30). Learned
    treatment scores and hypotheses stay on (see the README's GNN section for what they are worth)."""

    @property
    def version(self) -> str:
        """A short digest of the parameters."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]

    def prior_weight(self, tier: str) -> float:
        return dict(self.prior_weights)[tier]

    def pathogenic_probability(self, acmg: str) -> float:
        return dict(self.acmg_probabilities)[acmg]


def config_from_settings(settings: Settings, **overrides) -> RankingConfig:
    """The default parameters with the priors the settings give (`CDSS_PRIOR_COMMON`, `CDSS_PRIOR_DDXPLUS`)."""
    weights = ((RARE, 1.0), (COMMON, settings.prior_common), (DDXPLUS, settings.prior_ddxplus))
    return replace(RankingConfig(prior_weights=weights), **overrides)
