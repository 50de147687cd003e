"""Benchmark: does dense retrieval (all-MiniLM-L6-v2) pay for its cost as a candidate source for findings?

Queries are the exam and lay phrases of `ontologies/mappings/finding_phrases.tsv` (each with the finding a
person chose for it) that are not already an HPO or Symptom Ontology name or synonym: the paraphrases a
dictionary misses. Both methods search the same index, every HPO and SYMP finding name and synonym in the
graph (without our phrase table), and are scored on whether the nearest name belongs to the chosen finding:

- character 3-gram TF-IDF cosine, the method of the pipeline's fuzzy linker;
- dense: sentence embeddings, cosine.

Prints accuracy at 1 and at 5 for each, and the cost: index build seconds, milliseconds per query, the
pipeline's throughput budget for comparison.

    python benchmarks/dense_linking.py [--store URL]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from cdss.settings import load_settings
from cdss.types import NodeLabel
from nlp.dense import DenseIndex, load_encoder
from ontologies.phrases import finding_phrases
from runtime import open_graph

KINDS = ("lay", "exam")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    args = parser.parse_args()
    settings = load_settings()
    store = open_graph(settings, args.store)
    concepts, names = [], []
    for concept in store.iter_nodes(label=NodeLabel.FINDING):
        if concept.id.split(":", 1)[0] in ("HP", "SYMP"):
            for name in (concept.name, *concept.synonyms):
                concepts.append(concept.id)
                names.append(name)
    known = {n.casefold() for n in names}
    queries = [p for p in finding_phrases() if p.kind in KINDS and p.phrase.casefold() not in known]
    gold = [q.finding for q in queries]
    texts = [q.phrase for q in queries]
    print(f"{len(names):,} finding names; {len(queries)} paraphrase queries ({', '.join(KINDS)})")

    def accuracy(ranked: np.ndarray) -> tuple[float, float]:
        top1 = np.mean([concepts[r[0]] == g for r, g in zip(ranked, gold, strict=True)])
        top5 = np.mean([g in {concepts[i] for i in r[:5]} for r, g in zip(ranked, gold, strict=True)])
        return float(top1), float(top5)

    began = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=True)
    matrix = vectorizer.fit_transform(names)
    built = time.perf_counter() - began
    began = time.perf_counter()
    scores = (vectorizer.transform(texts) @ matrix.T).toarray()
    per_query = (time.perf_counter() - began) * 1000 / len(texts)
    char_acc = accuracy(np.argsort(-scores, axis=1)[:, :5])
    print(
        f"char 3-gram TF-IDF: accuracy@1 {char_acc[0]:.3f}, @5 {char_acc[1]:.3f}; index {built:.1f} s, "
        f"{per_query:.2f} ms per query"
    )

    began = time.perf_counter()
    encoder = load_encoder()
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    index = DenseIndex(encoder, concepts, names)
    built = time.perf_counter() - began
    began = time.perf_counter()
    dense_scores = index.encode(texts) @ index.vectors.T
    per_query = (time.perf_counter() - began) * 1000 / len(texts)
    dense_acc = accuracy(np.argsort(-dense_scores, axis=1)[:, :5])
    print(
        f"dense (all-MiniLM-L6-v2): accuracy@1 {dense_acc[0]:.3f}, @5 {dense_acc[1]:.3f}; model load "
        f"{loaded:.1f} s, index {built:.0f} s, {per_query:.2f} ms per query"
    )
    both = np.mean(
        [
            concepts[int(np.argmax(s))] == g or concepts[int(np.argmax(d))] == g
            for s, d, g in zip(scores, dense_scores, gold, strict=True)
        ]
    )
    print(f"either right: {both:.3f}")
    for q, d in zip(queries, np.argmax(dense_scores, axis=1), strict=True):
        if concepts[d] != q.finding:
            print(f"  dense miss: {q.phrase!r} -> {names[d]!r} ({concepts[d]}), chosen {q.finding}")


if __name__ == "__main__":
    main()
