"""Fuzzy linking with scispaCy's own linker machinery over a knowledge base of *our* concepts.

scispaCy's `CandidateGenerator` looks mentions up in a character-3-gram TF-IDF
space with an approximate-nearest-neighbour (nmslib HNSW) index. scispaCy's
own index builder refuses to run on Python 3.11 (it needs float16 sparse
matrices), so the vectoriser and index are built here and handed to it.
Candidates are re-ranked by edit distance, which catches transpositions
("pnuemonia") that character trigrams score poorly.

Two kinds of span are linked: NER spans the dictionary could not link, and
short windows around words that are in no concept name and no common-word
list (likely misspellings of a concept name).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import nmslib
import numpy as np
import srsly
from scispacy.candidate_generation import CandidateGenerator
from scispacy.linking_utils import Entity, KnowledgeBase
from sklearn.feature_extraction.text import TfidfVectorizer
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from nlp.extensions import DICTIONARY, FUZZY, NER
from nlp.matcher import set_link
from nlp.terms import TermHit, TermTable

LABEL = "fuzzy"
INDEX_FILE = "ann_index.bin"
VECTORIZER_FILE = "tfidf.json"
KNOWN_FILE = "known_words.msgpack"
MIN_WORD = 4
MAX_WINDOW = 3


def osa_distance(a: str, b: str) -> int:
    """Optimal-string-alignment edit distance: insertions, deletions, substitutions, transpositions."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def string_similarity(a: str, b: str) -> float:
    return 1.0 - osa_distance(a, b) / max(len(a), len(b), 1)


def compatible(ner_type: str | None, concept_label: str) -> bool:
    """An NER span typed as a drug may only link to a drug, a disease span to a disease or finding."""
    if ner_type is None:
        return True
    return (ner_type == "Drug") == (concept_label == "Drug")


class GraphKnowledgeBase(KnowledgeBase):
    """scispaCy's KnowledgeBase over our concepts, indexed straight from the term table.

    scispaCy would build one `Entity` per concept and then re-index their aliases;
    here the alias index is read off the table, and entities are made on demand.
    """

    def __init__(self, table: TermTable) -> None:
        concepts = table.concepts
        self.alias_to_cuis = {key: {concepts[h[0]].id for h in hits} for key, hits in table.lower.items()}
        self.cui_to_entity = _Entities(table)


class _Entities(Mapping[str, Entity]):
    def __init__(self, table: TermTable) -> None:
        self._table = table
        self._index = {c.id: i for i, c in enumerate(table.concepts)}

    def __getitem__(self, concept_id: str) -> Entity:
        concept = self._table.concepts[self._index[concept_id]]
        aliases = [key for key, hits in self._table.lower.items() if any(h[0] == self._index[concept_id] for h in hits)]
        return Entity(concept_id=concept.id, canonical_name=concept.name, aliases=aliases, types=[concept.label])

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _new_index() -> nmslib.dist.FloatIndex:
    return nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)


@Language.factory(
    "cdss_fuzzy_linker",
    assigns=["doc.spans"],
    default_config={"matcher": "cdss_concept_matcher", "threshold": 0.85, "ner_threshold": 0.75, "k": 10},
)
def make_fuzzy_linker(
    nlp: Language, name: str, matcher: str, threshold: float, ner_threshold: float, k: int
) -> FuzzyLinker:
    return FuzzyLinker(nlp, matcher=matcher, threshold=threshold, ner_threshold=ner_threshold, k=k)


class FuzzyLinker:
    def __init__(self, nlp: Language, *, matcher: str, threshold: float, ner_threshold: float, k: int) -> None:
        self.nlp = nlp
        self.matcher_name = matcher
        self.threshold = threshold
        self.ner_threshold = ner_threshold
        self.k = k
        self.aliases: list[str] = []
        self.vectorizer: TfidfVectorizer | None = None
        self.index = None
        self.known: frozenset[str] = frozenset()
        self.generator: CandidateGenerator | None = None

    @property
    def table(self) -> TermTable:
        return self.nlp.get_pipe(self.matcher_name).table

    def initialize(self, get_examples=None, *, nlp: Language | None = None, known_words: Iterable[str] = ()) -> None:
        """Fit the TF-IDF space and build the nearest-neighbour index over every alias."""
        aliases = sorted(self.table.lower)
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=1, dtype=np.float32)
        vectors = vectorizer.fit_transform(aliases)
        keep = np.asarray(vectors.sum(axis=1)).ravel() != 0
        self.aliases = [a for a, k in zip(aliases, keep, strict=True) if k]
        self.vectorizer = vectorizer
        self.index = _new_index()
        if self.aliases:
            self.index.addDataPointBatch(vectors[keep])
            threads = max(1, min(4, os.cpu_count() or 1))
            self.index.createIndex({"M": 16, "efConstruction": 100, "indexThreadQty": threads, "post": 0})
        self.known = (
            frozenset(w for key in self.table.lower for w in key.split(" "))
            | STOP_WORDS
            | {w.casefold() for w in known_words}
        )
        self._ready()

    def _ready(self) -> None:
        if self.aliases:
            self.index.setQueryTimeParams({"efSearch": 100})
            self.generator = CandidateGenerator(
                ann_index=self.index,
                tfidf_vectorizer=self.vectorizer,
                ann_concept_aliases_list=self.aliases,
                kb=GraphKnowledgeBase(self.table),
            )
        else:
            self.generator = None

    def _best(self, texts: list[str]) -> list[tuple[list[TermHit], float] | None]:
        """For each text, the concepts of its best alias and the score, or None."""
        if self.generator is None or not texts:
            return [None] * len(texts)
        results: list[tuple[list[TermHit], float] | None] = []
        for text, candidates in zip(texts, self.generator(texts, self.k), strict=True):
            best: tuple[float, str] | None = None
            for candidate in candidates:
                for alias, cosine in zip(candidate.aliases, candidate.similarities, strict=True):
                    score = max(cosine, string_similarity(text, alias))
                    if best is None or (score, -len(alias)) > (best[0], -len(best[1])):
                        best = (score, alias)
            results.append((self.table.lookup(best[1]), best[0]) if best else None)
        return results

    def _link_ner(self, doc: Doc) -> None:
        unlinked = [s for s in doc.spans.get(NER, []) if not s._.cdss_concept]
        for span, best in zip(unlinked, self._best([s.text.casefold() for s in unlinked]), strict=True):
            if not best or not best[0] or best[1] < self.ner_threshold:
                continue
            hits = [h for h in best[0] if compatible(span._.cdss_type, h.concept.label)]
            if hits:
                set_link(span, hits, method="ner", confidence=round(0.8 * best[1], 3))

    def _windows(self, doc: Doc) -> list[tuple[int, Span]]:
        covered = {i for group in (DICTIONARY, NER) for s in doc.spans.get(group, []) for i in range(s.start, s.end)}
        windows: list[tuple[int, Span]] = []
        for token in doc:
            if not token.is_alpha or len(token) < MIN_WORD or token.lower_ in self.known or token.i in covered:
                continue
            sentence = token.sent
            for width in range(1, MAX_WINDOW + 1):
                for start in range(token.i - width + 1, token.i + 1):
                    end = start + width
                    if start < sentence.start or end > sentence.end:
                        continue
                    window = doc[start:end]
                    if all(t.is_alpha and t.i not in covered for t in window):
                        windows.append((token.i, window))
        return windows

    def __call__(self, doc: Doc) -> Doc:
        self._link_ner(doc)
        windows = self._windows(doc)
        best_per_word: dict[int, tuple[float, int, Span, list[TermHit]]] = {}
        for (word, window), best in zip(windows, self._best([w.text.casefold() for _, w in windows]), strict=True):
            if not best or not best[0] or best[1] < self.threshold:
                continue
            hits, score = best
            current = best_per_word.get(word)
            if current is None or (score, len(window)) > (current[0], current[1]):
                best_per_word[word] = (score, len(window), window, hits)
        spans: dict[tuple[int, int], Span] = {}
        for score, _, window, hits in best_per_word.values():
            span = Span(doc, window.start, window.end, label=LABEL, kb_id=hits[0].concept.id)
            set_link(span, hits, method="fuzzy", confidence=round(score, 3))
            spans.setdefault((span.start, span.end), span)
        doc.spans[FUZZY] = [spans[k] for k in sorted(spans)]
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        vocabulary = {} if self.vectorizer is None else {k: int(v) for k, v in self.vectorizer.vocabulary_.items()}
        idf = [] if self.vectorizer is None else self.vectorizer.idf_.tolist()
        (path / VECTORIZER_FILE).write_text(json.dumps({"vocabulary": vocabulary, "idf": idf, "aliases": self.aliases}))
        (path / KNOWN_FILE).write_bytes(srsly.msgpack_dumps(sorted(self.known)))
        if self.aliases:
            self.index.saveIndex(str(path / INDEX_FILE), save_data=True)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> FuzzyLinker:
        path = ensure_path(path)
        stored = json.loads((path / VECTORIZER_FILE).read_text())
        self.aliases = stored["aliases"]
        self.known = frozenset(srsly.msgpack_loads((path / KNOWN_FILE).read_bytes()))
        if self.aliases:
            vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 3), vocabulary=stored["vocabulary"], dtype=np.float32
            )
            vectorizer.idf_ = np.asarray(stored["idf"], dtype=np.float32)
            self.vectorizer = vectorizer
            self.index = _new_index()
            self.index.loadIndex(str(path / INDEX_FILE), load_data=True)
        self._ready()
        return self
