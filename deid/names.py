"""Person names: after a title or a credential, first name plus surname or initial, or after a cue word.

A name found once is found again wherever its words recur in the same text, so that a
later "Smith" alone is caught once "John Smith" was.
"""

from __future__ import annotations

from deid.gazetteers import Gazetteers
from deid.spans import PhiSpan, PhiType
from deid.tokens import Token

MAX_NAME_WORDS = 4
STRONG_CUES = frozenset({"patient", "pt", "name", "named", "son", "daughter", "wife", "husband", "mother", "father"})


def _name_word(token: Token, gaz: Gazetteers) -> bool:
    """Capitalised, and not a word the rules know to be something else."""
    return (
        token.capitalised
        and token.lower not in gaz.cues["not_names"]
        and token.lower not in gaz.cues["facility_words"]
        and token.lower not in gaz.cues["titles"]
    )


def _known_name(token: Token, gaz: Gazetteers) -> bool:
    return token.lower in gaz.first_names or token.lower in gaz.last_names


def _run(tokens: list[Token], i: int, gaz: Gazetteers) -> int:
    """The end (exclusive) of the name words (capitalised words or initials) that start at `i`."""
    j, words = i, 0
    while j < len(tokens) and words < MAX_NAME_WORDS:
        token = tokens[j]
        if token.text == "." and j > i and tokens[j - 1].dotted:
            j += 1
            continue
        if j > i and "\n" in _gap(tokens, j):
            break
        if not (_initial(token, first=j == i) or _name_word(token, gaz)):
            break
        j += 1
        words += 1
        if token.text.endswith(("'s", "’s")):
            break
    return j


def _gap(tokens: list[Token], j: int) -> str:
    """What separates token j from the one before it, as far as the tokens know (a line break or not)."""
    return "\n" if tokens[j].sentence_start and tokens[j - 1].text not in ".!?:" else ""


def _initial(token: Token, *, first: bool = False) -> bool:
    """ "S." or, after a first name, a lone capital ("John D")."""
    return token.initial or (not first and len(token.text) == 1 and token.text.isupper() and token.text not in "AI")


def _span(tokens: list[Token], i: int, j: int, rule: str) -> PhiSpan:
    """Tokens i..j-1 as a name, a trailing full stop kept only after an initial."""
    while j - 1 > i and tokens[j - 1].text == ".":
        j -= 1
    last = tokens[j - 1]
    end = last.end_with_dot if len(last.text) == 1 else last.start + len(last.bare)
    return PhiSpan(tokens[i].start, end, PhiType.NAME, rule)


def _first_name(token: Token, gaz: Gazetteers) -> bool:
    return token.lower in gaz.first_names or all(part in gaz.first_names for part in token.lower.split("-"))


def name_spans(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    for i, token in enumerate(tokens):
        nxt = i + 1
        if nxt < len(tokens) and tokens[nxt].text == ".":
            nxt += 1
        if token.lower in gaz.cues["titles"] and (token.capitalised or token.text.isupper()):
            end = _run(tokens, nxt, gaz)
            if end > nxt:
                spans.append(_span(tokens, nxt, end, "name_title"))
            continue
        if _name_word(token, gaz) and _first_name(token, gaz) and i + 1 < len(tokens):
            second = tokens[i + 1]
            if second.sentence_start:
                continue
            if _initial(second) or (
                _name_word(second, gaz) and (second.lower in gaz.last_names or not gaz.common_word(second.lower))
            ):
                spans.append(_span(tokens, i, _run(tokens, i, gaz), "name_first_last"))
                continue
        if token.lower in gaz.cues["name_cues"] and i + 1 < len(tokens):
            at = i + 1 + (tokens[i + 1].text in {":", ","})
            end = _run(tokens, at, gaz)
            strong = token.lower in STRONG_CUES
            plausible = end > at and _known_name(tokens[at], gaz)
            if plausible and (
                strong or (not gaz.common_word(tokens[at].lower) and (_first_name(tokens[at], gaz) or end - at > 1))
            ):
                spans.append(_span(tokens, at, end, "name_cue"))
                continue
        if token.lower in gaz.cues["credentials"] and token.text.isupper() and i:
            end = j = i - (tokens[i - 1].text == ",")
            while j - 1 >= 0 and end - j < MAX_NAME_WORDS and (tokens[j - 1].initial or _name_word(tokens[j - 1], gaz)):
                j -= 1
            if j < end:
                spans.append(_span(tokens, j, end, "name_credential"))
    return spans + _recurring(tokens, spans, gaz)


def _recurring(tokens: list[Token], spans: list[PhiSpan], gaz: Gazetteers) -> list[PhiSpan]:
    words = {
        t.lower
        for t in tokens
        for s in spans
        if s.start <= t.start < s.end and len(t.bare) > 2 and not t.initial and not gaz.common_word(t.lower)
    }
    return [
        PhiSpan(t.start, t.start + len(t.bare), PhiType.NAME, "name_recurring")
        for t in tokens
        if t.capitalised and t.lower in words and not any(s.start <= t.start < s.end for s in spans)
    ]
