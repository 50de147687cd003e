"""Sentence boundaries that survive clinical text: headers, bullet lists, vitals, wrapped lines.

General-purpose splitters break "BP 140/90. HR 88." oddly, run list items
together and split wrapped lines. Here a line break ends a sentence unless
the next line visibly continues the last one, and a full stop ends one
before anything but a lower-case word.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Token

FINAL = frozenset({".", "!", "?"})
BULLETS = frozenset({"-", "*", "•", "·", "–", "—", "o", ">"})
CONTINUES = frozenset({",", "and", "or", "of", "with", "to", "the", "a", "an", "in", "on", "for", "by", "/"})


def _is_list_item(token: Token) -> bool:
    if token.text in BULLETS:
        return True
    nxt = token.nbor(1) if token.i + 1 < len(token.doc) else None
    return token.like_num and nxt is not None and nxt.text in {".", ")"}


@Language.factory("cdss_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> ClinicalSentences:
    return ClinicalSentences()


class ClinicalSentences:
    """Rule-based sentence splitter for notes; sets `Token.is_sent_start`."""

    def __call__(self, doc: Doc) -> Doc:
        previous: Token | None = None
        newlines = 0
        for token in doc:
            if token.is_space:
                newlines += token.text.count("\n")
                token.is_sent_start = token.i == 0
                continue
            newlines += previous.whitespace_.count("\n") if previous is not None else 0
            token.is_sent_start = previous is None or self._starts(previous, token, newlines)
            previous, newlines = token, 0
        return doc

    @staticmethod
    def _starts(previous: Token, token: Token, newlines: int) -> bool:
        if newlines >= 2 or (newlines and _is_list_item(token)):
            return True
        if previous.text in FINAL:
            return not token.is_lower
        if newlines:
            # A wrapped line: the previous line stops mid-phrase and this one goes on in lower case.
            wrapped = token.is_lower and (previous.is_alpha or previous.lower_ in CONTINUES) and previous.text != ":"
            return not wrapped
        return False
