"""What the service answers, apart from how it is asked: one function per question, shared by every front end
(the HTTP API today; FHIR and CDS Hooks adapters call the same functions).

Each takes the loaded engine (or its store) and plain values, and returns the JSON the answer is; locking,
readiness and the transport stay with the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from fhir.resources.R4B.resource import Resource

from cdss.errors import CryptoError, InputError, InvalidCurieError, NotFoundError, NothingToRankError, NotReadyError
from cdss.record_ids import PREFIX as RECORD_PREFIX
from cdss.record_ids import hashed_record_id, record_id_key
from cdss.sealing import SEALED_TEXT, DataKeyring, load_keyring, unseal
from cdss.settings import Settings
from cdss.types import Concept, Edge, EdgeType, NodeLabel
from imaging import ImageModel, ImagePrediction
from interop.fhir_bundle import read_bundle, read_prefetch
from interop.fhir_case import case_from_resources
from interop.image_input import check_modality, decode_image
from kg.lookup import describe, drug_named, resolve
from kg.store import Direction, GraphStore
from nlp.records import RecordInput
from ranking import NOTICE, Engine
from ranking.allergies import allergy_conflict, resolve_allergies
from ranking.case import Case, ImageFinding
from runtime import load_ingester

MAX_LISTED_EDGES = 500
DISEASE_OUTGOING = (EdgeType.HAS_FINDING, EdgeType.EXCLUDES_FINDING, EdgeType.IS_A)
DISEASE_INCOMING = (EdgeType.TREATS, EdgeType.PALLIATES, EdgeType.CONTRAINDICATED_FOR)


def concept_summary(concept: Concept) -> dict:
    """A concept as search results and disease pages show it (its attributes stay on the graph)."""
    return {k: v for k, v in concept.to_dict().items() if k != "attributes"}


def recommend(engine: Engine, case: Case, *, top_k: int, images: Sequence[ImagePrediction] = ()) -> dict:
    """The ranked differential and treatment options for one checked case, without the case id. The hosted
    image models' calibrated outputs enter as image findings (soft evidence), each naming its model and version."""
    if case.text is not None and engine.reader is None:
        raise NotReadyError("this server runs without the NLP pipeline (CDSS_API_NLP=0); send findings instead")
    seen = tuple(
        ImageFinding(f["finding"], f["probability"], f"{p.model}@{p.version}", f.get("prevalence"))
        for p in images
        for f in p.findings
    )
    result = engine.rank(replace(case, image_findings=case.image_findings + seen), top_k=top_k).to_dict()
    result.pop("id", None)
    result["image_predictions"] = [p.to_dict() for p in images]
    return result


def predict_image(
    models: Mapping[str, ImageModel], model: str, data: bytes, *, saliency: str | None = None
) -> tuple[ImagePrediction, bytes | None]:
    """One uploaded image through the hosted model `model`, decoded in memory with its modality checked; with
    `saliency`, that label's Grad-CAM map over the image as a PNG overlay."""
    hosted = hosted_model(models, model)
    if saliency is not None and saliency not in hosted.labels:
        raise InputError(f"saliency: {saliency!r} is not a label of the {model} model ({', '.join(hosted.labels)})")
    image = decode_image(data)
    check_modality(image, model=model, modality=hosted.modality)
    prediction = hosted.predict(image.pixels, notes=[f"read as {image.format}", *image.notes])
    return prediction, hosted.saliency(image.pixels, saliency) if saliency is not None else None


def hosted_model(models: Mapping[str, ImageModel], model: str) -> ImageModel:
    if model not in models:
        hosted = ", ".join(sorted(models)) or "none: train one with `cdss image train`"
        raise NotFoundError(f"no hosted image model {model!r}; this server hosts {hosted}")
    return models[model]


def fhir_recommend(engine: Engine, bundle: object, *, top_k: int, today: date) -> dict:
    """The answer for a FHIR Bundle, with what each resource became and what was not used, and why."""
    return _fhir_answer(engine, read_bundle(bundle), [], top_k=top_k, today=today)


def _fhir_answer(
    engine: Engine, resources: Sequence[Resource], unfilled: list[dict], *, top_k: int, today: date
) -> dict:
    terms = engine.reader.measurement_terms if engine.reader is not None else {}
    read = case_from_resources(resources, engine.store, terms=terms, today=today)
    answer = recommend(engine, read.case, top_k=top_k)
    answer["fhir"] = {"used": read.used, "not_used": unfilled + read.not_used}
    return answer


def prefetch_recommend(engine: Engine, prefetch: object, *, top_k: int, today: date) -> dict:
    """The answer for a CDS Hooks prefetch (resources, searchset Bundles, nulls); a key the client could not
    fill is listed as not used."""
    resources, unfilled = read_prefetch(prefetch)
    return _fhir_answer(engine, resources, unfilled, top_k=top_k, today=today)


def prefetch_case(engine: Engine, prefetch: object, *, today: date) -> Case:
    """The case a CDS Hooks prefetch describes (for checking a drafted order against it)."""
    resources, _ = read_prefetch(prefetch)
    terms = engine.reader.measurement_terms if engine.reader is not None else {}
    return case_from_resources(resources, engine.store, terms=terms, today=today).case


def rxnorm_codes(store: GraphStore, drug_ids: Sequence[str]) -> dict[str, str]:
    """Drug id -> its RxNorm code, for the draft orders a card suggests."""
    out = {}
    for drug_id, concept in store.get_nodes(list(drug_ids)).items():
        code = next((x.split(":", 1)[1] for x in concept.xrefs if x.startswith("RXNORM:")), None)
        if code is not None:
            out[drug_id] = code
    return out


def treatment_check(engine: Engine, case: Case, drug: str, *, top_k: int) -> dict:
    """A drafted drug against the case: the leading diagnoses it is an option for, and why it is held back
    (curated as not indicated, an allergy), and the known conditions it is curated as contraindicated for."""
    concept = _drug(engine.store, drug)
    if concept is None:
        return {"drug": {"input": drug, "id": None, "name": None}, "checked": False}
    try:
        answer = recommend(engine, replace(case, medications=()), top_k=top_k)
    except NothingToRankError:
        answer = {"diagnoses": [], "treatments": [], "treatments_left_out": [], "notice": NOTICE}
        answer["versions"] = engine.versions
    stated = engine.store.get_nodes([f.id for f in case.present])
    known = {i: c.name for i, c in stated.items() if c.label == NodeLabel.DISEASE}
    contraindicated = [
        {"id": e.end, "name": known[e.end], "source": e.provenance.source, "version": e.provenance.version}
        for e in engine.store.neighbours(concept.id, edge_types=[EdgeType.CONTRAINDICATED_FOR], direction=Direction.OUT)
        if e.end in known
    ]
    return {
        "drug": {"input": drug, "id": concept.id, "name": concept.name},
        "checked": True,
        "indicated_for": [t for t in answer["treatments"] if t["drug"] == concept.id],
        "held_back": [t for t in answer["treatments_left_out"] if t["drug"] == concept.id],
        "contraindicated_for": contraindicated,
        "allergy": allergy_conflict(concept, resolve_allergies(engine.store, case.allergies)),
        "diagnoses": answer["diagnoses"][:3],
        "notice": answer["notice"],
        "versions": answer["versions"],
    }


def _drug(store: GraphStore, given: str) -> Concept | None:
    try:
        drugs = [c for c, _ in resolve(store, given) if c.label == NodeLabel.DRUG]
    except (NotFoundError, InvalidCurieError):
        return drug_named(store, given)
    return drugs[0] if len(drugs) == 1 else None


def search(store: GraphStore, label: NodeLabel, text: str, *, limit: int) -> dict:
    """Concepts of `label` by code (a CURIE, through cross-references) or by name and synonym."""
    text = text.strip()
    if not text:
        raise InputError("q must contain more than spaces")
    found: list[Concept] = []
    if ":" in text and " " not in text:
        try:
            found = [c for c, _ in resolve(store, text) if c.label == label]
        except (NotFoundError, InputError, InvalidCurieError):
            found = []
    seen = {c.id for c in found}
    found += [c for c in store.search(text, label=label, limit=limit) if c.id not in seen]
    return {"query": text, "results": [concept_summary(c) for c in found[:limit]]}


def disease_page(store: GraphStore, curie: str) -> dict:
    """One disease: its codes, findings, exclusions, treatments, contraindications and parents, each edge with
    its source, source version and licence."""
    views = describe(
        store, curie, label=NodeLabel.DISEASE, outgoing_types=DISEASE_OUTGOING, incoming_types=DISEASE_INCOMING
    )
    if not views:
        raise NotFoundError(f"{curie!r} is not a disease in the graph")
    view = views[0]
    names = {node: concept.name for node, concept in view.neighbours.items()}
    out, incoming = view.outgoing, view.incoming
    return {
        "disease": concept_summary(view.concept),
        "codes": [view.concept.id, *view.concept.xrefs],
        "findings": _listed(out, {EdgeType.HAS_FINDING}, "end", names),
        "excluded_findings": _listed(out, {EdgeType.EXCLUDES_FINDING}, "end", names),
        "treatments": _listed(incoming, {EdgeType.TREATS, EdgeType.PALLIATES}, "start", names),
        "contraindicated": _listed(incoming, {EdgeType.CONTRAINDICATED_FOR}, "start", names),
        "parents": _listed(out, {EdgeType.IS_A}, "end", names),
        "graph_version": store.graph_version,
    }


def _listed(edges: Sequence[Edge], types: set[EdgeType], other: str, names: dict[str, str]) -> list[dict]:
    rows = []
    for edge in edges:
        if edge.type not in types:
            continue
        node = getattr(edge, other)
        rows.append(
            {
                "type": str(edge.type),
                "id": node,
                "name": names.get(node, node),
                "properties": dict(edge.attributes),
                "source": edge.provenance.source,
                "source_version": edge.provenance.version,
                "license": edge.provenance.license,
            }
        )
    return sorted(rows, key=lambda r: (r["name"].casefold(), r["id"], r["source"]))[:MAX_LISTED_EDGES]


def ingest(engine: Engine, records: Sequence[RecordInput], *, settings: Settings, key_id: str | None = None) -> dict:
    """Read records into the graph (idempotent by record id); ids come back only as keyed hashes. `key_id`, the
    calling API key, is kept on each record: only it (and admin keys) may read the record back."""
    if engine.reader is None:
        raise NotReadyError("this server runs without the NLP pipeline (CDSS_API_NLP=0); it cannot ingest text")
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise InputError("record ids must be unique within one request")
    ingester = load_ingester(engine.store, settings, engine.reader.pipeline, ingested_by=key_id)
    report = ingester.ingest(iter(records), show_progress=False)
    return {
        "records": report.records,
        "new": report.new,
        "replaced": report.replaced,
        "mentions": report.mentions,
        "record_ids": [hashed_record_id(i, record_id_key(settings)) for i in ids],
        "graph_version": engine.store.graph_version,
    }


def record_page(store: GraphStore, settings: Settings, record_id: str, *, key_id: str | None, admin: bool) -> dict:
    """One record: its mentions and, where text is stored, its de-identified text. `record_id` is the id sent
    at ingest or the stored `RECORD:` hash. Only the keys that ingested it (and admin keys) see it; to any other
    it answers exactly as a missing record does, so record ids cannot be probed."""
    node = visible_record(store, settings, record_id, key_id=key_id, admin=admin)
    node_id = node.id
    edges = store.neighbours(node_id, edge_types=[EdgeType.MENTIONS], direction=Direction.OUT)
    names = {i: c.name for i, c in store.get_nodes([e.end for e in edges]).items()}
    token = node.attributes.get(SEALED_TEXT)
    return {
        "record_id": node_id,
        "mentions": [_record_mention(e, names) for e in sorted(edges, key=lambda e: e.end)],
        "text_stored": token is not None,
        "text": None if token is None else unseal(token, keyring=_data_keyring(settings, node_id), aad=node_id),
        "deid_mode": None if token is None else node.attributes.get("deid_mode"),
        "graph_version": store.graph_version,
    }


def visible_record(
    store: GraphStore, settings: Settings, record_id: str, *, key_id: str | None, admin: bool
) -> Concept:
    """The record node for an id sent at ingest (or its `RECORD:` hash), if this key may see it: the keys that
    ingested it and admin keys; for any other key it is not found, as a record that does not exist."""
    hashed = re.fullmatch(re.escape(RECORD_PREFIX) + "[0-9a-f]{32}", record_id)
    node_id = record_id if hashed else hashed_record_id(record_id, record_id_key(settings))
    node = store.get_node(node_id)
    is_record = node is not None and node.label == NodeLabel.RECORD
    if not (is_record and (admin or key_id in node.attributes.get("ingested_by", ()))):
        raise NotFoundError(f"no record {node_id} that this API key may read")
    return node


def _record_mention(edge: Edge, names: Mapping[str, str]) -> dict:
    spans = [span.split(":") for span in edge.attributes.get("spans", [])]
    return {
        "concept_id": edge.end,
        "name": names.get(edge.end, edge.end),
        "concept_type": edge.attributes.get("concept_type"),
        "assertion": edge.attributes["assertion"],
        "assertions": edge.attributes.get("assertions", [edge.attributes["assertion"]]),
        "present": bool(edge.attributes.get("present")),
        "sections": edge.attributes.get("sections", []),
        "spans": [{"start": int(start), "end": int(end)} for start, end in spans],
    }


def _data_keyring(settings: Settings, node_id: str) -> DataKeyring:
    """The keyring sealed text opens with. Never created here: a fresh key would open nothing."""
    if not settings.data_key_file.exists():
        raise CryptoError(f"record {node_id} has sealed text but there is no data keyring at {settings.data_key_file}")
    return load_keyring(settings.data_key_file)


def loaded_models(engine: Engine) -> dict:
    """The versions behind every answer, the link model's training metrics and the NLP components."""
    scorer = engine.link_scorer
    link = None
    if scorer is not None:
        metrics = getattr(scorer, "metrics", {}) or {}
        link = {"version": scorer.version, "training": metrics.get("training")}
    nlp = None
    if engine.reader is not None:
        nlp = {"version": engine.reader.version, "components": engine.reader.components}
    return {"versions": engine.versions, "link_model": link, "nlp_pipeline": nlp}


def hosted_image_models(models: Mapping[str, ImageModel]) -> list[dict]:
    """Each hosted image model: its labels, modality, version, test-split metrics and model card."""
    return [
        {
            "dataset": name,
            "version": m.version,
            "labels": list(m.labels),
            "modality": m.modality,
            "input_size": m.input_size,
            "metrics": m.metrics,
            "card": m.card,
        }
        for name, m in sorted(models.items())
    ]
