"""The scispaCy tokenizer, registered so that a saved pipeline recreates it on `spacy.load`."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import spacy
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.tokenizer import Tokenizer

TOKENIZER = "cdss.scispacy_tokenizer.v1"


def _scispacy_tokenizer(nlp: Language) -> Tokenizer:
    # scispaCy builds on the pipeline's current tokenizer, which does not exist yet while a
    # pipeline is being constructed from its config: give it the language's defaults to read.
    if not hasattr(nlp, "tokenizer"):
        nlp.tokenizer = Tokenizer(nlp.vocab, token_match=nlp.Defaults.token_match)
    with warnings.catch_warnings():
        # scispaCy's prefix rules contain "[[" inside a character class, which Python flags.
        warnings.filterwarnings("ignore", message="Possible set union", category=FutureWarning)
        return combined_rule_tokenizer(nlp)


@spacy.registry.tokenizers(TOKENIZER)
def create_scispacy_tokenizer() -> Callable[[Language], Tokenizer]:
    return _scispacy_tokenizer


def blank_pipeline() -> Language:
    """An English pipeline with only the scispaCy tokenizer."""
    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER}}})
