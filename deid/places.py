"""Places smaller than a state: facilities, saints' and mounts' names, known institutions, cities, and
capitalised names after "seen at", "admitted to" and the like."""

from __future__ import annotations

from deid.gazetteers import Gazetteers
from deid.spans import PhiSpan, PhiType
from deid.tokens import Token

MAX_PLACE_WORDS = 6
SAINTS = frozenset(
    {
        "st",
        "mt",
        "saint",
        "mount",
        "ft",
        "fort",
        "san",
        "santa",
        "los",
        "las",
        "new",
        "north",
        "south",
        "east",
        "west",
        "lake",
        "port",
    }
)


def _place_word(token: Token, gaz: Gazetteers) -> bool:
    return token.capitalised or (token.text.isupper() and len(token.text) > 1) or token.lower in SAINTS


def _left_edge(tokens: list[Token], head: int, gaz: Gazetteers) -> int:
    """The first token of the capitalised run that ends at `head`, over joiners such as "of" and "&"
    and the full stops of abbreviations ("St.", "Med.")."""
    i = head
    while i - 1 >= 0 and head - (i - 1) < MAX_PLACE_WORDS:
        before = tokens[i - 1]
        if before.text == "." and i - 2 >= 0 and tokens[i - 2].dotted and _place_word(tokens[i - 2], gaz):
            i -= 1
            continue
        joined = before.lower in gaz.cues["place_joiners"] and i - 2 >= 0 and _place_word(tokens[i - 2], gaz)
        if (_place_word(before, gaz) and not before.sentence_start) or before.lower in SAINTS or joined:
            i -= 1
        elif _place_word(before, gaz) and before.sentence_start and before.lower not in gaz.cues["not_names"]:
            i -= 1
            break
        else:
            break
    while i < head and (
        (tokens[i].text.islower() and tokens[i].lower in gaz.cues["place_joiners"])
        or (tokens[i].lower in gaz.cues["not_names"] and tokens[i].lower not in gaz.cues["facility_words"])
    ):
        i += 1
    return i


def _right_edge(tokens: list[Token], head: int, gaz: Gazetteers) -> int:
    """Past "of the University of X" after a facility word."""
    j = head
    while j + 2 < len(tokens) and tokens[j + 1].lower in {"of", "the", "at"} and _place_word(tokens[j + 2], gaz):
        j += 2
        while j + 1 < len(tokens) and _place_word(tokens[j + 1], gaz):
            j += 1
    return j


def _span(tokens: list[Token], i: int, j: int, rule: str, gaz: Gazetteers) -> PhiSpan:
    """Tokens i..j as a place, carried on over a lower-case facility noun ("New York clinic") and over
    ", State" after a city, since a city's span reads better whole."""
    if j + 1 < len(tokens) and tokens[j + 1].lower in gaz.cues["lowercase_heads"]:
        j += 1
    elif j + 2 < len(tokens) and tokens[j + 1].text.islower() and tokens[j + 2].lower in gaz.cues["lowercase_heads"]:
        j += 2
    if (
        j + 2 < len(tokens)
        and tokens[j + 1].text == ","
        and (tokens[j + 2].text in gaz.state_codes or tokens[j + 2].lower in gaz.states)
    ):
        j += 2
    last = tokens[j]
    end = last.end_with_dot if last.dotted and len(last.text) < 4 else last.end
    return PhiSpan(tokens[i].start, end, PhiType.LOCATION, rule)


def _known_city(token: Token, gaz: Gazetteers) -> bool:
    return token.capitalised and token.lower in gaz.cities and token.lower not in gaz.countries


def _facilities(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    spans = []
    for k, token in enumerate(tokens):
        capitalised_head = token.capitalised and token.lower in gaz.cues["facility_heads"]
        lowercase_head = (
            token.text in gaz.cues["lowercase_heads"]
            and k
            and tokens[k - 1].capitalised
            and not gaz.common_word(tokens[k - 1].lower)
            and tokens[k - 1].lower not in gaz.cues["not_names"]
        )
        if not (capitalised_head or lowercase_head):
            continue
        i = _left_edge(tokens, k, gaz)
        if i == k:
            continue
        spans.append(_span(tokens, i, _right_edge(tokens, k, gaz), "place_facility", gaz))
    return spans


def _saints(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    spans = []
    for k, token in enumerate(tokens[:-1]):
        if token.lower not in {"st", "mt", "saint", "mount"} or not token.capitalised:
            continue
        j = k + 1 + (tokens[k + 1].text == ".")
        if j < len(tokens) and tokens[j].capitalised:
            if j + 1 < len(tokens) and tokens[j + 1].lower in gaz.cues["not_place_after"]:
                continue
            spans.append(_span(tokens, k, j, "place_saint", gaz))
    return spans


def _cued(tokens: list[Token], k: int, gaz: Gazetteers) -> bool:
    return k > 0 and tokens[k - 1].lower in gaz.cues["place_cues"]


def _gazetteer(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    spans = []
    for k, token in enumerate(tokens):
        if not (token.capitalised or (token.text.isupper() and len(token.text) > 1)):
            continue
        for width in range(min(gaz.city_max_words, len(tokens) - k), 0, -1):
            words = tokens[k : k + width]
            phrase = " ".join(t.text for t in words).replace(" .", ".").replace(" - ", "-").lower()
            after = tokens[k + width] if k + width < len(tokens) else None
            following = tokens[k + width : k + width + 2]
            if any(t.lower in gaz.cues["not_place_after"] for t in following):
                continue
            if phrase in gaz.institutions and (not gaz.institutions[phrase] or _cued(tokens, k, gaz)):
                spans.append(_span(tokens, k, k + width - 1, "place_institution", gaz))
                break
            if _city(phrase, words, tokens, k, after, gaz):
                spans.append(_span(tokens, k, k + width - 1, "place_city", gaz))
                break
    return spans


BIG_CITY = 100_000
HUGE_CITY = 1_000_000


def _city(phrase: str, words: list[Token], tokens: list[Token], k: int, after: Token | None, gaz: Gazetteers) -> bool:
    """A city or county: any of them after a place cue or before ", State"; without one, only a big
    city whose name is written as a name and is not also a common word or first name."""
    if phrase in gaz.countries or not all(w.capitalised for w in words):
        return False
    if k and _state(f"{tokens[k - 1].lower} {phrase}", gaz):
        return False
    before_state = (
        after is not None
        and after.text == ","
        and k + len(words) + 1 < len(tokens)
        and (tokens[k + len(words) + 1].text in gaz.state_codes or tokens[k + len(words) + 1].lower in gaz.states)
    )
    if _state(phrase, gaz):
        return before_state or (after is not None and after.lower in gaz.cues["lowercase_heads"])
    known = phrase in gaz.cities or phrase in gaz.counties
    if known and (_cued(tokens, k, gaz) or before_state):
        return True
    population, in_us = gaz.cities.get(phrase, (0, False))
    plain = all(w.text[1:].islower() for w in words) and (
        len(words) > 1 or not (gaz.common_word(phrase) or phrase in gaz.first_names or phrase in gaz.cues["not_names"])
    )
    return plain and (population >= HUGE_CITY or (in_us and population >= BIG_CITY))


def _state(phrase: str, gaz: Gazetteers) -> bool:
    return phrase in gaz.states


def _after_care(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    """A capitalised name right after "seen at", "admitted to", "transferred from" and the like."""
    spans = []
    for k, token in enumerate(tokens):
        if token.lower not in {"at", "to", "from", "in"} or k + 1 >= len(tokens):
            continue
        window = [t.lower for t in tokens[max(0, k - 3) : k]]
        if not any(w in gaz.cues["care_verbs"] for w in window):
            continue
        start = k + 1 + (tokens[k + 1].lower == "the")
        if (
            start >= len(tokens)
            or (not tokens[start].capitalised and not tokens[start].text.isupper())
            or tokens[start].lower in gaz.cues["titles"]
            or tokens[start].lower in gaz.cues["not_names"]
            or tokens[start].lower in gaz.countries
        ):
            continue
        j = start
        while (
            j < len(tokens)
            and j - start < MAX_PLACE_WORDS
            and (_place_word(tokens[j], gaz) or (tokens[j].text == "." and tokens[j - 1].lower in SAINTS))
        ):
            if tokens[j].lower in gaz.cues["not_names"] or _state(tokens[j].lower, gaz):
                break
            j += 1
        if j > start:
            spans.append(_span(tokens, start, j - 1, "place_after_care", gaz))
    return spans


def place_spans(tokens: list[Token], gaz: Gazetteers) -> list[PhiSpan]:
    return _facilities(tokens, gaz) + _saints(tokens, gaz) + _gazetteer(tokens, gaz) + _after_care(tokens, gaz)
