"""Sentence boundaries that survive clinical text: headers, bullet lists, vitals, wrapped lines.

General-purpose splitters break "BP 140/90. HR 88." oddly, run list items
together and split wrapped lines. Here a line break ends a sentence unless the
next line visibly continues the last one (it starts in lower case after a word
or a comma), a blank line or a bullet always does, and a full stop, question or
exclamation mark ends one before anything but a lower-case word.

The rules run on spaCy's token attribute arrays with numpy rather than token
by token: this component sees every token of every note.
"""

from __future__ import annotations

import bisect
import re

import numpy as np
from spacy.attrs import IDX, IS_ALPHA, IS_LOWER, IS_SPACE, LENGTH, LIKE_NUM, LOWER, ORTH, SENT_START
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc

from nlp.extensions import doc_text

FINAL = (".", "!", "?")
BULLETS = ("-", "*", "•", "·", "–", "—", ">")
LIST_CLOSERS = (".", ")")
CONTINUES = (",", "and", "or", "of", "with", "to", "the", "a", "an", "in", "on", "for", "by", "/")
_NEWLINE = re.compile("\n")


def _hashes(words: tuple[str, ...]) -> np.ndarray:
    return np.array([hash_string(w) for w in words], dtype=np.uint64)


@Language.factory("cdss_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> ClinicalSentences:
    return ClinicalSentences()


class ClinicalSentences:
    """Rule-based sentence splitter for notes; sets `Token.is_sent_start`."""

    def __init__(self) -> None:
        self.final = _hashes(FINAL)
        self.bullets = _hashes(BULLETS)
        self.closers = _hashes(LIST_CLOSERS)
        self.continues = _hashes(CONTINUES)
        self.colon = np.uint64(hash_string(":"))

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        attrs = doc.to_array([IDX, LENGTH, IS_SPACE, IS_ALPHA, IS_LOWER, LIKE_NUM]).astype(np.int64)
        start, length, space, alpha, lower, number = (attrs[:, i] for i in range(6))
        orth = doc.to_array(ORTH).astype(np.uint64)
        lower_orth = doc.to_array(LOWER).astype(np.uint64)
        words = np.flatnonzero(space == 0)
        starts = np.full(len(doc), -1, dtype=np.int64)
        starts[0] = 1
        if len(words) > 1:
            current, previous = words[1:], words[:-1]
            newlines = np.array([m.start() for m in _NEWLINE.finditer(doc_text(doc))], dtype=np.int64)
            gap_start = start[previous] + length[previous]
            breaks = np.searchsorted(newlines, start[current]) - np.searchsorted(newlines, gap_start)
            following = np.minimum(current + 1, len(doc) - 1)
            list_item = np.isin(orth[current], self.bullets) | (
                (number[current] == 1) & np.isin(orth[following], self.closers) & (following != current)
            )
            after_final = np.isin(orth[previous], self.final)
            wrapped = (
                (lower[current] == 1)
                & ((alpha[previous] == 1) | np.isin(lower_orth[previous], self.continues))
                & (orth[previous] != self.colon)
            )
            begins = (
                (breaks >= 2)
                | ((breaks >= 1) & list_item)
                | (after_final & (lower[current] == 0))
                | ((breaks >= 1) & ~after_final & ~wrapped)
            )
            starts[current] = np.where(begins, 1, -1)
        if len(words) and words[0] != 0:
            starts[words[0]] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1).astype(np.uint64))
        return doc


class SentenceIndex:
    """Sentence bounds of one document: built once from the token array, asked many times.

    `Token.sent` walks the tokens to find its sentence on every call; components
    that ask for every mention's sentence use this instead.
    """

    def __init__(self, doc: Doc) -> None:
        if not len(doc):
            self.starts: list[int] = []
        elif doc.has_annotation("SENT_START"):
            flags = doc.to_array(SENT_START).astype(np.int64)
            flags[0] = 1
            self.starts = np.flatnonzero(flags == 1).tolist()
        else:
            self.starts = [0]
        self.length = len(doc)

    def bounds(self, token_index: int) -> tuple[int, int]:
        """[start, end) token offsets of the sentence holding `token_index`."""
        position = bisect.bisect_right(self.starts, token_index) - 1
        end = self.starts[position + 1] if position + 1 < len(self.starts) else self.length
        return self.starts[position], end
