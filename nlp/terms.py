"""The term table: every usable name and synonym of a graph concept, tokenised as the
pipeline tokenises text, pointing at the concepts it names, best first.

Built once per graph version and stored with the pipeline, so loading it is a
read, not a re-tokenisation of 200,000 names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import srsly
from spacy.lang.en.stop_words import STOP_WORDS

from cdss.types import Concept, NodeLabel

LABEL_ORDER = {NodeLabel.DISEASE.value: 0, NodeLabel.FINDING.value: 1, NodeLabel.DRUG.value: 2}
CODING_SYSTEMS = frozenset({"ICD10CM"})
"""Vocabularies that code conditions for billing: a curated concept with the same name is preferred."""
MAX_TOKENS = 10
_ACRONYM = re.compile(r"^(?=.*[A-Z])[A-Z0-9]{2,6}$")
_HAS_LETTER = re.compile(r"[^\W\d_]")

Tokenize = Callable[[Sequence[str]], Iterable[Sequence[str]]]
"""Turns texts into token strings, exactly as the pipeline's tokenizer would."""


@dataclass(frozen=True, slots=True)
class TermConcept:
    id: str
    label: str
    name: str


@dataclass(frozen=True, slots=True)
class TermHit:
    concept: TermConcept
    exact: bool
    """The term is the concept's preferred name, not a synonym."""


class TermTable:
    """Token keys (tokens joined by single spaces) -> the concepts they name.

    `lower` keys are matched case-insensitively; `orth` keys are short acronyms
    (`MS`, `ALL`, `CAD`) matched only in their exact case, because their
    lower-case forms are ordinary words.
    """

    def __init__(
        self,
        concepts: list[TermConcept],
        lower: Mapping[str, Sequence[Sequence]],
        orth: Mapping[str, Sequence[Sequence]],
        denied: frozenset[str] = frozenset(),
    ) -> None:
        self.concepts = concepts
        self.lower = lower
        self.orth = orth
        self.denied = denied

    @classmethod
    def empty(cls) -> TermTable:
        return cls([], {}, {})

    def __len__(self) -> int:
        return len(self.lower) + len(self.orth)

    def lookup(self, key: str, *, case_sensitive: bool = False) -> list[TermHit]:
        entries = (self.orth if case_sensitive else self.lower).get(key, ())
        return [TermHit(self.concepts[index], bool(exact)) for index, exact in entries]

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps(
            {
                "concepts": [[c.id, c.label, c.name] for c in self.concepts],
                "lower": {k: [[i, e] for i, e in v] for k, v in self.lower.items()},
                "orth": {k: [[i, e] for i, e in v] for k, v in self.orth.items()},
                "denied": sorted(self.denied),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TermTable:
        # Entries stay as the decoded [index, exact] lists: converting 200,000 of them costs
        # more at load than `lookup` ever spends reading them.
        raw = srsly.msgpack_loads(data)
        return cls([TermConcept(*c) for c in raw["concepts"]], raw["lower"], raw["orth"], frozenset(raw["denied"]))


def plural(text: str) -> str | None:
    """The regular English plural of a short term's last word ("fever" -> "fevers"), if it has one.

    Notes say "fevers", "headaches", "allergies"; the ontologies name the singular.
    """
    words = text.split(" ")
    last = words[-1]
    if len(words) > 3 or len(last) < 3 or not last.isalpha() or last.isupper():
        return None
    if last.casefold().endswith(("s", "x", "z", "ch", "sh", "ia", "um", "us", "is")):
        return None
    last = last[:-1] + "ies" if last.endswith("y") and last[-2].casefold() not in "aeiou" else last + "s"
    return " ".join([*words[:-1], last])


def _usable(tokens: Sequence[str], denied: frozenset[str]) -> bool:
    if not tokens or len(tokens) > MAX_TOKENS:
        return False
    text = " ".join(tokens)
    if not _HAS_LETTER.search(text):
        return False
    if len(tokens) == 1 and (len(text) < 3 or text in STOP_WORDS or text in denied):
        return False
    return text not in denied


def build_term_table(
    concepts: Iterable[Concept],
    tokenize: Tokenize,
    *,
    denied: Iterable[str] = (),
    prefix_order: Mapping[str, Sequence[str]] | None = None,
    preferred: Mapping[str, str] | None = None,
) -> TermTable:
    """Tokenise every name and synonym (with hyphen-free and plural variants) and rank each
    key's concepts: the concept `preferred` names for that text (our curated phrases), then
    Disease, Finding, Drug; then the vocabulary order in `prefix_order`; then preferred names
    before synonyms."""
    denied_set = frozenset(d.casefold() for d in denied)
    table: list[TermConcept] = []
    texts: list[str] = []
    owners: list[tuple[int, bool]] = []
    for concept in concepts:
        index = len(table)
        table.append(TermConcept(concept.id, str(concept.label), concept.name))
        pluralise = concept.label in (NodeLabel.DISEASE, NodeLabel.FINDING)
        for text, exact in [(concept.name, True), *((s, False) for s in concept.synonyms)]:
            variants = {text, text.replace("-", " ")} if "-" in text else {text}
            if pluralise:
                variants |= {p for v in variants if (p := plural(v))}
            for variant in sorted(variants):
                texts.append(variant)
                owners.append((index, exact))
    lower: dict[str, dict[int, bool]] = defaultdict(dict)
    orth: dict[str, dict[int, bool]] = defaultdict(dict)
    for tokens, (index, exact) in zip(tokenize(texts), owners, strict=True):
        if len(tokens) == 1 and _ACRONYM.match(tokens[0]):
            orth[tokens[0]][index] = orth[tokens[0]].get(index, False) or exact
            continue
        lowered = [t.casefold() for t in tokens]
        if _usable(lowered, denied_set):
            key = " ".join(lowered)
            lower[key][index] = lower[key].get(index, False) or exact

    order = prefix_order or {}

    def rank(item: tuple[int, bool]) -> tuple:
        # Curated vocabularies before coding systems whatever their label ("photophobia" is HPO's finding,
        # not ICD-10-CM's H53.14); then diseases before findings before drugs; within a label the
        # vocabulary order, then preferred names before synonyms.
        index, exact = item
        concept = table[index]
        prefixes = list(order.get(concept.label, ()))
        prefix = concept.id.split(":", 1)[0]
        position = prefixes.index(prefix) if prefix in prefixes else 99
        coding = prefix in CODING_SYSTEMS
        return (coding, LABEL_ORDER.get(concept.label, 9), position, not exact, concept.id)

    chosen: dict[str, str] = {}
    if preferred:
        phrases = list(preferred)
        for tokens, phrase in zip(tokenize(phrases), phrases, strict=True):
            chosen[" ".join(t.casefold() for t in tokens)] = preferred[phrase]

    def ranked(entries: dict[str, dict[int, bool]]) -> dict[str, list[tuple[int, bool]]]:
        return {
            key: sorted(hits.items(), key=lambda item, key=key: (table[item[0]].id != chosen.get(key), *rank(item)))
            for key, hits in entries.items()
        }

    return TermTable(table, ranked(lower), ranked(orth), denied_set)
