"""The scispaCy tokenizer, registered so that a saved pipeline recreates it on `spacy.load`.

One rule is added to scispaCy's: a hyphen between a letter (or a closing
bracket) and a letter splits the word. scispaCy keeps "methamphetamine-induced"
whole, which hides the drug inside it: in the BC5CDR test split 17% of chemical
mentions end or start at such a hyphen and could never be found exactly.

It also keeps the text it was given: spaCy rebuilds `Doc.text` from every
token on each read, and several components need the text of every note.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import spacy
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from nlp.extensions import TEXT_KEY

TOKENIZER = "cdss.scispacy_tokenizer.v1"
HYPHEN_BETWEEN_WORDS = r"(?<=[A-Za-z\)])-(?=[A-Za-z])"


class TextKeepingTokenizer(Tokenizer):
    """scispaCy's tokenizer rules; stores the input text in `doc.user_data`."""

    def __call__(self, text: str) -> Doc:
        doc = super().__call__(text)
        doc.user_data[TEXT_KEY] = text
        return doc


def _scispacy_tokenizer(nlp: Language) -> Tokenizer:
    # scispaCy builds on the pipeline's current tokenizer, which does not exist yet while a
    # pipeline is being constructed from its config: give it the language's defaults to read.
    if not hasattr(nlp, "tokenizer"):
        nlp.tokenizer = Tokenizer(nlp.vocab, token_match=nlp.Defaults.token_match)
    with warnings.catch_warnings():
        # scispaCy's prefix rules contain "[[" inside a character class, which Python flags.
        warnings.filterwarnings("ignore", message="Possible set union", category=FutureWarning)
        rules = combined_rule_tokenizer(nlp)
    infixes = re.compile(f"{rules.infix_finditer.__self__.pattern}|{HYPHEN_BETWEEN_WORDS}")
    return TextKeepingTokenizer(
        nlp.vocab,
        rules=rules.rules,
        prefix_search=rules.prefix_search,
        suffix_search=rules.suffix_search,
        infix_finditer=infixes.finditer,
        token_match=rules.token_match,
        url_match=rules.url_match,
    )


@spacy.registry.tokenizers(TOKENIZER)
def create_scispacy_tokenizer() -> Callable[[Language], Tokenizer]:
    return _scispacy_tokenizer


def blank_pipeline() -> Language:
    """An English pipeline with only the scispaCy tokenizer."""
    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER}}})
