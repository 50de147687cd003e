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
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import nmslib
import numpy as np
from rapidfuzz.distance import OSA
from scispacy.candidate_generation import CandidateGenerator
from scispacy.linking_utils import Entity, KnowledgeBase
from sklearn.feature_extraction.text import TfidfVectorizer
from spacy.attrs import IS_ALPHA, LENGTH, LOWER
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, minibatch

from nlp.extensions import DICTIONARY, FUZZY, NER, candidate_link
from nlp.matcher import set_link
from nlp.sentences import SentenceIndex
from nlp.terms import TermHit, TermTable

LABEL = "fuzzy"
INDEX_FILE = "ann_index.bin"
VECTORIZER_FILE = "tfidf.json"
KNOWN_FILE = "known_words.npy"
MIN_WORD = 4
MAX_WINDOW = 3
WORD_MATCH = 0.8
"""Edit similarity at which an unknown word counts as a (misspelt) word of a name."""
EF_SEARCH = 60
"""HNSW search breadth: 60 finds the same misspellings as 100 in our checks at two thirds of the cost."""


def osa_distance(a: str, b: str) -> int:
    """Optimal-string-alignment edit distance: insertions, deletions, substitutions, transpositions."""
    return OSA.distance(a, b)


def string_similarity(a: str, b: str) -> float:
    """1 - edit distance / length, lifted to 0.9 for a single edit in a word of six letters or
    more ("nausia"), which normalising by a short length would otherwise punish."""
    distance = OSA.distance(a, b)
    similarity = 1.0 - distance / max(len(a), len(b), 1)
    return max(similarity, 0.9) if distance == 1 and min(len(a), len(b)) >= 6 else similarity


def english_words() -> frozenset[str]:
    """Ordinary English words (pyspellchecker's frequency list): a note's "today" or
    "discussed" is not a misspelt concept name, so the linker never looks it up."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.keys())


def compatible(ner_type: str | None, concept_label: str) -> bool:
    """An NER span typed as a drug may only link to a drug, a disease span to a disease or finding."""
    if ner_type is None:
        return True
    return (ner_type == "Drug") == (concept_label == "Drug")


class GraphKnowledgeBase(KnowledgeBase):
    """scispaCy's KnowledgeBase over our concepts, read straight from the term table.

    scispaCy would build one `Entity` per concept and index every alias up front;
    here both views are computed on demand, which keeps loading fast and small.
    """

    def __init__(self, table: TermTable) -> None:
        self.alias_to_cuis = _AliasIndex(table)
        self.cui_to_entity = _Entities(table)


class _AliasIndex(Mapping[str, set[str]]):
    def __init__(self, table: TermTable) -> None:
        self._table = table

    def __getitem__(self, alias: str) -> set[str]:
        hits = self._table.lower[alias]
        return {self._table.concepts[h[0]].id for h in hits}

    def __iter__(self):
        return iter(self._table.lower)

    def __len__(self) -> int:
        return len(self._table.lower)


class _Entities(Mapping[str, Entity]):
    def __init__(self, table: TermTable) -> None:
        self._table = table
        self._index = {c.id: i for i, c in enumerate(table.concepts)}

    def __getitem__(self, concept_id: str) -> Entity:
        index = self._index[concept_id]
        concept = self._table.concepts[index]
        aliases = [key for key, hits in self._table.lower.items() if any(h[0] == index for h in hits)]
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
    default_config={"matcher": "cdss_concept_matcher", "threshold": 0.85, "ner_threshold": 0.75, "k": 8},
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
        self.known_hashes = np.zeros(0, dtype=np.uint64)
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
            # One thread: HNSW built by several inserts in an order that varies run to run, so two builds of one
            # graph linked some mentions differently (vignette MRR moved in the fourth decimal); built alone, the
            # index is the same bytes in every process.
            self.index.createIndex({"M": 16, "efConstruction": 100, "indexThreadQty": 1, "post": 0})
        known = (
            frozenset(w for key in self.table.lower for w in key.split(" "))
            | STOP_WORDS
            | english_words()
            | {w.casefold() for w in known_words}
        )
        self.known_hashes = np.array(sorted({hash_string(w) for w in known}), dtype=np.uint64)
        self._ready()

    def _ready(self) -> None:
        if self.aliases:
            self.index.setQueryTimeParams({"efSearch": EF_SEARCH})
            self.generator = CandidateGenerator(
                ann_index=self.index,
                tfidf_vectorizer=self.vectorizer,
                ann_concept_aliases_list=self.aliases,
                kb=GraphKnowledgeBase(self.table),
            )
        else:
            self.generator = None

    def _candidates(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """For each text, its nearest aliases with their TF-IDF cosine.

        Each distinct text is looked up once: a batch of notes repeats its unknown words.
        """
        if self.generator is None or not texts:
            return [[] for _ in texts]
        unique = list(dict.fromkeys(texts))
        found = {
            text: [pair for c in candidates for pair in zip(c.aliases, c.similarities, strict=True)]
            for text, candidates in zip(unique, self.generator(unique, self.k), strict=True)
        }
        return [found[text] for text in texts]

    def _best(
        self, text: str, pairs: list[tuple[str, float]], *, use_cosine: bool = True
    ) -> tuple[list[TermHit], float] | None:
        """The concepts of the best alias and its score, or None.

        Multi-word texts may score by cosine, which forgives word order; a single
        word scores by edit similarity alone, or "root" would pass for
        "salvia miltiorrhiza root".
        """
        best: tuple[float, str] | None = None
        for alias, cosine in pairs:
            similarity = string_similarity(text, alias)
            score = max(cosine, similarity) if use_cosine else similarity
            if best is None or (score, -len(alias)) > (best[0], -len(best[1])):
                best = (score, alias)
        return (self.table.lookup(best[1]), best[0]) if best else None

    @staticmethod
    def _promising(word: str, pairs: list[tuple[str, float]]) -> bool:
        """Whether a word is (nearly) a word of some candidate name, so that a window around
        it might spell the whole name ("atrial fibrilation")."""
        return any(string_similarity(word, part) >= WORD_MATCH for alias, _ in pairs for part in alias.split(" "))

    def _link_ner(self, docs: list[Doc]) -> None:
        ner = [(s, candidate_link(s)) for doc in docs for s in doc.spans.get(NER, [])]
        unlinked = [(s, link) for s, link in ner if not link.concept]
        texts = [s.text.casefold() for s, _ in unlinked]
        for (span, link), text, pairs in zip(unlinked, texts, self._candidates(texts), strict=True):
            best = self._best(text, pairs)
            if not best or not best[0] or best[1] < self.ner_threshold:
                continue
            hits = [h for h in best[0] if compatible(link.type, h.concept.label)]
            if hits:
                set_link(span, hits, method="ner", confidence=round(0.8 * best[1], 3))

    def _unknown_words(self, doc: Doc, covered: set[int]) -> list[int]:
        """Indices of alphabetic words of 4+ letters that no name and no English word list has."""
        if not len(doc):
            return []
        attrs = doc.to_array([IS_ALPHA, LENGTH])
        lower = doc.to_array(LOWER).astype(np.uint64)
        position = np.minimum(np.searchsorted(self.known_hashes, lower), max(len(self.known_hashes) - 1, 0))
        known = self.known_hashes[position] == lower if len(self.known_hashes) else np.zeros(len(doc), bool)
        candidates = np.flatnonzero((attrs[:, 0] == 1) & (attrs[:, 1] >= MIN_WORD) & ~known)
        return [int(i) for i in candidates if int(i) not in covered]

    def _windows(self, doc: Doc, words: Iterable[int], covered: set[int]) -> list[tuple[int, Span]]:
        """Windows of two and three words around each word, inside its sentence."""
        windows: list[tuple[int, Span]] = []
        sentences = SentenceIndex(doc)
        for index in words:
            first, last = sentences.bounds(index)
            for width in range(2, MAX_WINDOW + 1):
                for start in range(index - width + 1, index + 1):
                    end = start + width
                    if start < first or end > last:
                        continue
                    window = doc[start:end]
                    if all(t.is_alpha and t.i not in covered for t in window):
                        windows.append((index, window))
        return windows

    def __call__(self, doc: Doc) -> Doc:
        return self._link_batch([doc])[0]

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 64) -> Iterator[Doc]:
        """Link a batch of notes with one nearest-neighbour query per stage, not one per note."""
        for batch in minibatch(docs, size=batch_size):
            yield from self._link_batch(list(batch))

    def _link_batch(self, docs: list[Doc]) -> list[Doc]:
        self._link_ner(docs)
        covered = [
            {i for group in (DICTIONARY, NER) for s in doc.spans.get(group, []) for i in range(s.start, s.end)}
            for doc in docs
        ]
        singles = [(d, i, doc[i : i + 1]) for d, doc in enumerate(docs) for i in self._unknown_words(doc, covered[d])]
        texts = [w.text.casefold() for _, _, w in singles]
        single_pairs = self._candidates(texts)
        # Only words that resemble a word of some name get the costlier multi-word windows.
        promising: dict[int, list[int]] = defaultdict(list)
        for (d, i, _), text, pairs in zip(singles, texts, single_pairs, strict=True):
            if self._promising(text, pairs):
                promising[d].append(i)
        multi = [(d, i, w) for d, words in promising.items() for i, w in self._windows(docs[d], words, covered[d])]
        multi_texts = [w.text.casefold() for _, _, w in multi]
        candidates = [
            (single, self._best(text, pairs, use_cosine=False))
            for single, text, pairs in zip(singles, texts, single_pairs, strict=True)
        ]
        candidates += [
            (window, self._best(text, pairs))
            for window, text, pairs in zip(multi, multi_texts, self._candidates(multi_texts), strict=True)
        ]
        best_per_word: dict[tuple[int, int], tuple[float, int, Span, list[TermHit]]] = {}
        for (d, word, window), best in candidates:
            if not best or not best[0] or best[1] < self.threshold:
                continue
            hits, score = best
            current = best_per_word.get((d, word))
            if current is None or (score, len(window)) > (current[0], current[1]):
                best_per_word[(d, word)] = (score, len(window), window, hits)
        spans: list[dict[tuple[int, int], Span]] = [{} for _ in docs]
        for (d, _), (score, _, window, hits) in best_per_word.items():
            span = Span(docs[d], window.start, window.end, label=LABEL, kb_id=hits[0].concept.id)
            set_link(span, hits, method="fuzzy", confidence=round(score, 3))
            spans[d].setdefault((span.start, span.end), span)
        for doc, found in zip(docs, spans, strict=True):
            doc.spans[FUZZY] = [found[k] for k in sorted(found)]
        return docs

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        vocabulary = {} if self.vectorizer is None else {k: int(v) for k, v in self.vectorizer.vocabulary_.items()}
        idf = [] if self.vectorizer is None else self.vectorizer.idf_.tolist()
        (path / VECTORIZER_FILE).write_text(json.dumps({"vocabulary": vocabulary, "idf": idf, "aliases": self.aliases}))
        np.save(path / KNOWN_FILE, self.known_hashes, allow_pickle=False)
        if self.aliases:
            self.index.saveIndex(str(path / INDEX_FILE), save_data=True)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> FuzzyLinker:
        path = ensure_path(path)
        stored = json.loads((path / VECTORIZER_FILE).read_text())
        self.aliases = stored["aliases"]
        self.known_hashes = np.load(path / KNOWN_FILE, allow_pickle=False)
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
