"""Assembling the clinical pipeline from the graph, caching it per graph version, and running it safely.

    scispaCy tokenizer -> cdss_sentences -> cdss_sections -> cdss_abbreviations
    -> cdss_measurements -> cdss_concept_matcher -> [ner -> cdss_ner_spans] -> [cdss_published_ner]
    -> cdss_fuzzy_linker -> cdss_mentions -> cdss_context

Building takes about a minute (tokenising every name, indexing every alias);
the result is saved with `nlp.to_disk` and later loaded with `spacy.load`
in a couple of seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from cdss import __version__
from cdss.errors import ConfigError, InputError
from cdss.settings import Settings
from cdss.types import Mention, NodeLabel
from kg.store import GraphStore
from nlp.loinc2hpo import OutcomeTerm, outcome_terms
from nlp.mentions import doc_mentions
from nlp.resources import load_resource
from nlp.terms import TermTable, build_term_table
from nlp.tokenizer import blank_pipeline
from ontologies import CANONICAL_PREFIXES
from ontologies.phrases import finding_phrases, phrases_by_finding

PIPELINE_NAME = "cdss_clinical"
PIPELINE_REVISION = "6"
"""Bump when a component changes in a way that makes cached pipelines stale."""
CONCEPT_LABELS = (NodeLabel.DISEASE, NodeLabel.FINDING, NodeLabel.DRUG)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[a-z]+")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NerChoice:
    """Which statistical NER, if any, joins the pipeline."""

    trained: Path | None = None
    """A model saved by `cdss nlp train`."""
    published: str | None = None
    """An installed scispaCy package name, e.g. en_ner_bc5cdr_md."""

    @property
    def key(self) -> str:
        parts = []
        if self.trained is not None:
            meta = self.trained / "meta.json"
            stamp = meta.read_bytes() if meta.is_file() else str(self.trained).encode()
            parts.append("trained-" + hashlib.sha256(stamp).hexdigest()[:10])
        if self.published:
            parts.append(self.published)
        return "+".join(parts) or "no-ner"


def ner_choice(settings: Settings, *, use_ner: bool = True) -> NerChoice:
    """The NER the settings ask for: the trained model when present, plus a published one if named."""
    if not use_ner:
        return NerChoice()
    trained = settings.ner_model if settings.ner_model and (settings.ner_model / "meta.json").is_file() else None
    return NerChoice(trained=trained, published=settings.scispacy_model)


def _tokenizer_texts(nlp: Language):
    def tokenize(texts: list[str]) -> Iterator[list[str]]:
        for doc in nlp.tokenizer.pipe(texts, batch_size=1000):
            yield [t.text for t in doc if not t.is_space]

    return tokenize


def term_table(store: GraphStore) -> TermTable:
    """Every concept's names and synonyms, with our finding phrases (`ontologies/phrases.py`) added."""
    # A throwaway tokenizer with the same rules: tokenising 200,000 names would otherwise
    # fill the pipeline's own vocabulary, which is saved with it and slows every load.
    extra = phrases_by_finding()
    concepts = [
        replace(c, synonyms=(*c.synonyms, *extra[c.id])) if c.id in extra else c
        for label in CONCEPT_LABELS
        for c in store.iter_nodes(label=label)
    ]
    return build_term_table(
        concepts,
        _tokenizer_texts(blank_pipeline()),
        denied=load_resource("term_denylist.json")["terms"],
        prefix_order={str(k): v for k, v in CANONICAL_PREFIXES.items()},
        preferred={row.phrase: row.finding for row in finding_phrases()},
    )


def _definition_words(store: GraphStore) -> set[str]:
    """Words of the graph's definitions: ordinary medical English, so not misspellings."""
    words: set[str] = set()
    for label in CONCEPT_LABELS:
        for concept in store.iter_nodes(label=label):
            definition = concept.attributes.get("definition")
            if isinstance(definition, str):
                words.update(_WORD.findall(definition.casefold()))
    return words


def measurement_terms(sources_dir: Path | None) -> dict[tuple[str, str], OutcomeTerm]:
    """LOINC2HPO (when fetched) with our corrections; says so when it is missing."""
    terms, notes = outcome_terms(sources_dir)
    for note in notes:
        log.warning(note)
    return terms


def _tables_stamp(terms: dict[tuple[str, str], OutcomeTerm]) -> str:
    """A digest of the rule tables a cached pipeline was built with: measurement terms and finding phrases."""
    listed = sorted((f"{loinc}|{outcome}", t.hpo) for (loinc, outcome), t in terms.items())
    phrases = sorted(phrases_by_finding().items())
    return hashlib.sha256(json.dumps([listed, phrases]).encode()).hexdigest()[:8]


def build_pipeline(
    store: GraphStore, *, ner: NerChoice = NerChoice(), terms: dict[tuple[str, str], OutcomeTerm] | None = None
) -> Language:
    """A fresh pipeline whose vocabulary is the graph in `store`; `terms`: what a low, normal or high value
    stands for (`measurement_terms`; our own corrections only when not given)."""
    terms = measurement_terms(None) if terms is None else terms
    nlp = blank_pipeline()
    nlp.add_pipe("cdss_sentences")
    nlp.add_pipe("cdss_sections")
    nlp.add_pipe("cdss_abbreviations")
    measurements = nlp.add_pipe("cdss_measurements")
    matcher = nlp.add_pipe("cdss_concept_matcher")
    if ner.trained is not None:
        trained = spacy.load(ner.trained)
        nlp.add_pipe("ner", source=trained)
        nlp.add_pipe("cdss_ner_spans")
    if ner.published:
        nlp.add_pipe("cdss_published_ner", config={"model": ner.published}).initialize()
    fuzzy = nlp.add_pipe("cdss_fuzzy_linker")
    nlp.add_pipe("cdss_mentions")
    nlp.add_pipe("cdss_context")
    matcher.initialize(table=term_table(store))
    measurements.initialize(terms=terms, known={c.id for c in store.iter_nodes(label=NodeLabel.FINDING)})
    fuzzy.initialize(known_words=_definition_words(store))
    nlp.meta.update(
        name=PIPELINE_NAME,
        version=__version__,
        cdss={
            "graph_version": store.graph_version,
            "revision": PIPELINE_REVISION,
            "ner": ner.key,
            "tables": _tables_stamp(terms),
        },
    )
    return nlp


def pipeline_version(nlp: Language) -> str:
    """The version stamped on answers: revision, graph version and NER."""
    info = nlp.meta.get("cdss", {})
    return f"{PIPELINE_NAME}-{info.get('revision')}-{info.get('graph_version')}-{info.get('ner')}"


def cache_dir(settings: Settings, graph_version: str, ner: NerChoice) -> Path:
    stamp = _tables_stamp(measurement_terms(settings.sources_dir))
    return settings.data_dir / "nlp" / f"pipeline-r{PIPELINE_REVISION}-{graph_version}-{ner.key}-t{stamp}"


def load_pipeline(store: GraphStore, settings: Settings, *, ner: NerChoice | None = None) -> Language:
    """The pipeline for this graph version: loaded from the cache, or built and cached."""
    ner = ner_choice(settings) if ner is None else ner
    version = store.graph_version
    if not version:
        raise ConfigError(f"the graph at {store.location} has no version: run `cdss kg build` first")
    path = cache_dir(settings, version, ner)
    if (path / "config.cfg").is_file():
        return spacy.load(path)
    nlp = build_pipeline(store, ner=ner, terms=measurement_terms(settings.sources_dir))
    staging = path.with_name(f"{path.name}.building-{time.time_ns()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(staging)
    if path.exists():
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(path)
    return nlp


def clean_text(text: object, *, max_chars: int) -> str:
    """Check a record's text and make it safe to process without moving any offset.

    Control characters (other than tab and newlines) become spaces, so every
    mention's start and end still index the caller's original string.
    """
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    if len(text) > max_chars:
        raise InputError(f"text is {len(text):,} characters; the limit is {max_chars:,} (CDSS_MAX_TEXT_CHARS)")
    return _CONTROL.sub(" ", text)


def annotate(
    nlp: Language, texts: Iterable[str], *, max_chars: int, batch_size: int = 32, n_process: int = 1
) -> Iterator[Doc]:
    """Run the pipeline over texts that have been checked and cleaned."""
    cleaned = (clean_text(t, max_chars=max_chars) for t in texts)
    yield from nlp.pipe(cleaned, batch_size=batch_size, n_process=n_process)


def extract_mentions(nlp: Language, text: str, *, record_id: str = "", max_chars: int) -> list[Mention]:
    """Mentions in one text; an empty or blank text has none."""
    cleaned = clean_text(text, max_chars=max_chars)
    if not cleaned.strip():
        return []
    return doc_mentions(nlp(cleaned), record_id)
