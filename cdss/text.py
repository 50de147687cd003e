"""Text normalisation shared by name lookup in the graph and by the NLP matcher."""

from __future__ import annotations

import re
import unicodedata

_POSSESSIVE = re.compile(r"['\u2019]s\b")
_NON_WORD = re.compile(r"[\W_]+")


def normalize_term(text: str) -> str:
    """Fold a name to the key used for exact lookup.

    Case, accents, punctuation and possessives are dropped so that
    "Crohn's disease", "CROHN DISEASE" and "Crohn disease" share one key.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NON_WORD.sub(" ", _POSSESSIVE.sub("", stripped)).split())
