"""Request and response models. The OpenAPI document is generated from these, so the two cannot drift."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ranking.case import (
    ACMG_CLASSES,
    DEFAULT_ACMG,
    MAX_GENE_CHARS,
    MAX_GENES,
    Case,
    ImageFinding,
    ReportedGene,
    StatedFinding,
    checked,
    stated,
)

CURIE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*:\S+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingIn(Strict):
    id: str = Field(pattern=CURIE_PATTERN, max_length=100, description="A finding CURIE, e.g. HP:0001945.")
    status: Literal["present", "absent"] = "present"
    confidence: float = Field(1.0, ge=0.0, le=1.0, description="How sure the caller is (1 = certain).")


class ImageFindingIn(Strict):
    label: str = Field(
        min_length=1, max_length=200, pattern=r"\S", description="An image model's label, or a finding CURIE."
    )
    probability: float = Field(ge=0.0, le=1.0)
    model: str = Field("", max_length=200, description="The image model that produced it.")


GENE_DESCRIPTION = "An HGNC symbol (FBN1) or a gene CURIE (NCBIGene:2200)."
GeneName = Annotated[
    str, Field(min_length=1, max_length=MAX_GENE_CHARS, pattern=r"^\S+$", description=GENE_DESCRIPTION)
]
AcmgClass = Literal[ACMG_CLASSES]


class GeneIn(Strict):
    gene: GeneName
    acmg: AcmgClass = Field(DEFAULT_ACMG, description="The ACMG/AMP class of the variant the test reports.")


ReportedGeneIn = Annotated[
    Annotated[GeneName, Tag("symbol")] | Annotated[GeneIn, Tag("object")],
    Discriminator(lambda value: "object" if isinstance(value, dict | GeneIn) else "symbol"),
]
"""A gene alone or with its class; an error names the form it was read as (genes.0.object.acmg)."""


MAX_IMAGE_CHARS = 23_000_000
"""Base64 of the largest image accepted (16 MB, CDSS_MAX_IMAGE_BYTES' default)."""


class ImageIn(Strict):
    image: str = Field(
        min_length=1, max_length=MAX_IMAGE_CHARS, description="PNG, JPEG or DICOM, base64 (or a multipart file)."
    )
    model: str = Field(
        min_length=1,
        max_length=100,
        description="The hosted model to read it: pneumoniamnist, breastmnist, kermany or nih1000 (GET /v1/models).",
    )


class RecommendationRequest(Strict):
    text: str | None = Field(None, max_length=200_000, description="Free-text note; never logged or stored.")
    findings: list[FindingIn] = Field(default_factory=list, max_length=500)
    image_findings: list[ImageFindingIn] = Field(default_factory=list, max_length=100)
    medications: list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]] = Field(
        default_factory=list, max_length=200, description="Names or CURIEs."
    )
    allergies: list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]] = Field(
        default_factory=list,
        max_length=200,
        description="Drugs or drug classes (names or CURIEs) the patient is allergic or intolerant to; treatments "
        "they rule out are listed as left out, with the reason.",
    )
    genes: list[ReportedGeneIn] = Field(
        default_factory=list,
        max_length=MAX_GENES,
        description="Genes the patient's genetic test reports a variant in, alone (counted as likely pathogenic) or "
        "with the variant's ACMG class; a disease tied to one gains its likelihood ratio. Genes the graph does not "
        "know are reported back in unknown_genes.",
    )
    age: float | None = Field(None, ge=0, le=130, description="Years.")
    sex: Literal["female", "male"] | None = None
    setting: Literal["ed", "primary_care", "unknown"] = Field(
        "unknown", description="Where the patient is seen; it chooses which survey's visit frequencies are the prior."
    )
    images: list[ImageIn] = Field(
        default_factory=list,
        max_length=4,
        description="Images the hosted models read; their calibrated outputs enter as image findings.",
    )
    top_k: int = Field(10, ge=1, le=100)

    def to_case(self) -> Case:
        """The engine's `Case`, built from fields this model has already checked (CURIEs are normalised and
        the cross-field rule applied here, once)."""

        def findings(status: str) -> tuple[StatedFinding, ...]:
            listed = enumerate(self.findings)
            return tuple(stated(f.id, f.confidence, f"findings[{i}].id") for i, f in listed if f.status == status)

        return checked(
            Case(
                present=findings("present"),
                absent=findings("absent"),
                text=self.text,
                image_findings=tuple(
                    ImageFinding(i.label.strip(), i.probability, i.model) for i in self.image_findings
                ),
                medications=tuple(m.strip() for m in self.medications),
                allergies=tuple(a.strip() for a in self.allergies),
                genes=tuple(
                    ReportedGene(g) if isinstance(g, str) else ReportedGene(g.gene, g.acmg) for g in self.genes
                ),
                age=None if self.age is None else float(self.age),
                sex=self.sex,
                setting=self.setting,
            )
        )


class Versions(BaseModel):
    """What produced an answer: the graph, the ranking model, the NLP pipeline, the link model, the knowledge
    update learned from feedback (`cdss learn`), cdss."""

    graph: str | None = None
    ranking: str | None = None
    nlp: str | None = None
    link_model: str | None = None
    learned: str | None = None
    cdss: str | None = None
    model_config = ConfigDict(extra="allow")


class MentionOut(BaseModel):
    start: int
    end: int
    text: str
    concept_id: str | None
    concept_type: str | None
    assertion: str
    section: str | None
    confidence: float
    method: str
    measurement: dict[str, Any] | None = None
    """For a vital sign or lab value: value, unit, outcome, the range used and why it counts (or the problem)."""


class TreatedDiagnosisOut(BaseModel):
    id: str
    name: str
    rank: int


class TreatmentOut(BaseModel):
    """A drug offered for one of the leading diagnoses (`ranking.treatments.TreatmentOption`)."""

    drug: str
    name: str
    for_: TreatedDiagnosisOut = Field(alias="for")
    relation: str
    evidence_grade: str
    score: float
    already_taking: bool
    evidence: list[dict[str, Any]]
    via_parent: dict[str, Any] | None = None
    learned_score: float | None = None
    versions: Versions
    model_config = ConfigDict(populate_by_name=True)


class LeftOutOut(BaseModel):
    """A candidate drug not offered, and why (`ranking.treatments.LeftOut`)."""

    drug: str
    name: str
    for_: TreatedDiagnosisOut = Field(alias="for")
    reason: str
    evidence: list[dict[str, Any]]
    model_config = ConfigDict(populate_by_name=True)


class QuestionOut(BaseModel):
    """A finding worth asking about next (`ranking.diagnosis.Question`)."""

    finding: str
    name: str
    information_gain: float
    expected_in: list[dict[str, Any]]


class AllergyOut(BaseModel):
    input: str
    drugs: list[str]
    """The drugs it names (by CURIE or exact name); empty when it names a class or nothing in the graph."""
    classes: list[str]


class GeneOut(BaseModel):
    """A reported gene the graph knows (`ranking.genotype.ResolvedGene`)."""

    input: str
    id: str
    symbol: str
    acmg: str


class RecommendationResponse(BaseModel):
    notice: str
    diagnoses: list[dict[str, Any]]
    treatments: list[TreatmentOut]
    treatments_left_out: list[LeftOutOut]
    learned_treatment_hypotheses: list[dict[str, Any]]
    next_questions: list[QuestionOut]
    mentions: list[MentionOut]
    unknown_image_labels: list[str]
    genes: list[GeneOut]
    unknown_genes: list[str]
    """Reported genes the graph does not know: listed, never silently dropped."""
    not_used: list[Any]
    allergies: list[AllergyOut]
    image_predictions: list[dict[str, Any]]
    """What each hosted image model read from each image sent (model, version, probabilities, findings, notes)."""
    versions: Versions
    request_id: str
    """Quote it in `POST /v1/feedback` to say which suggestions were right."""
    model_config = ConfigDict(extra="allow")


class SearchQuery(Strict):
    q: str = Field(min_length=1, max_length=200, pattern=r"\S", description="A name, synonym or code (CURIE).")
    limit: int = Field(20, ge=1, le=100)


class ConceptOut(BaseModel):
    id: str
    label: str
    name: str
    synonyms: list[str]
    xrefs: list[str]
    sources: list[str]


class SearchResponse(BaseModel):
    query: str
    results: list[ConceptOut]


class EdgeOut(BaseModel):
    type: str
    id: str
    name: str
    properties: dict[str, Any]
    source: str
    source_version: str
    license: str


class DiseaseResponse(BaseModel):
    disease: ConceptOut
    codes: list[str]
    findings: list[EdgeOut]
    excluded_findings: list[EdgeOut]
    treatments: list[EdgeOut]
    contraindicated: list[EdgeOut]
    parents: list[EdgeOut]
    graph_version: str | None


class RelatedQuery(Strict):
    limit: int = Field(10, ge=1, le=100)


class RelatedResponse(BaseModel):
    disease: dict[str, Any]
    related: list[dict[str, Any]]
    versions: Versions
    notice: str


class RecordIn(Strict):
    id: str = Field(min_length=1, max_length=200, description="The caller's record id; stored only as a keyed hash.")
    text: str = Field(min_length=1, max_length=200_000)


class RecordsRequest(Strict):
    records: list[RecordIn] = Field(min_length=1, max_length=50)


class RecordsResponse(BaseModel):
    records: int
    new: int
    replaced: int
    mentions: int
    record_ids: list[str] = Field(description="The keyed hashes under which the records are stored.")
    graph_version: str | None


class RecordMentionOut(BaseModel):
    """One MENTIONS edge: a concept the record mentions, summarising all its mentions there."""

    concept_id: str
    name: str
    concept_type: str | None
    assertion: str
    assertions: list[str]
    present: bool
    sections: list[str]
    spans: list[dict[str, int]] = Field(description="Each mention's start and end in the stored (de-identified) text.")


class RecordResponse(BaseModel):
    record_id: str = Field(description="The keyed hash the record is stored under.")
    mentions: list[RecordMentionOut]
    text_stored: bool
    text: str | None = Field(description="The de-identified text, when this deployment stores text.")
    deid_mode: str | None = Field(description="How the stored text was de-identified (surrogates, tags or off).")
    graph_version: str | None


class StatsResponse(BaseModel):
    graph_version: str | None
    nodes: int
    edges: int
    nodes_by_label: dict[str, int]
    edges_by_type: dict[str, int]
    model_config = ConfigDict(extra="allow")


class ModelsResponse(BaseModel):
    versions: Versions
    link_model: dict[str, Any] | None
    nlp_pipeline: dict[str, Any] | None
    image_models: list[dict[str, Any]]
    """The hosted image models: labels, modality, version, test metrics and model card."""


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    graph: bool
    engine: bool
    nlp: bool | None
    audit: bool
    """Whether the audit log can be written: /v1 calls are refused while it cannot."""
    error: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    status: int
    request_id: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ImagePredictRequest(ImageIn):
    saliency: str | None = Field(
        None, max_length=100, description="A label of the model: return its Grad-CAM map over the image as a PNG."
    )


class ImagePredictionOut(BaseModel):
    model: str
    version: str
    probabilities: dict[str, float]
    findings: list[dict[str, Any]]
    """Each label's calibrated probability and the graph finding it stands for."""
    notes: list[str]
    """What was done to the image (format read, converted to greyscale, resized ...)."""
    model_config = ConfigDict(extra="allow")


class ImagePredictResponse(ImagePredictionOut):
    saliency_png: str | None = None
    """Base64 PNG of the Grad-CAM overlay, when asked."""
    notice: str
