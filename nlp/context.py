"""Assertion: is each mention present, negated, possible, historical, family or hypothetical?

A ConText-style algorithm (Harkema et al., 2009) with its triggers kept as data
in `resources/context_rules.json`. A trigger modifies the mentions on its side
(forward, backward or both) within its sentence, until a terminating phrase
("but", "however", ";"), a trigger of another category, or its maximum scope.
Pseudo-triggers ("not only", "gram negative") block the triggers they contain.
When no trigger applies, the section decides (family history -> family,
past medical history -> historical), else the mention is present.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from cdss.errors import InputError
from cdss.types import Assertion
from nlp.extensions import MENTIONS, TRIGGERS, doc_text
from nlp.measurement_spans import METHOD as MEASUREMENT
from nlp.measurement_spans import measurement_detail
from nlp.resources import load_resource
from nlp.sections import SectionIndex, section_rules
from nlp.sentences import SentenceIndex

FORWARD, BACKWARD, BIDIRECTIONAL = "FORWARD", "BACKWARD", "BIDIRECTIONAL"
PSEUDO, TERMINATE = "PSEUDO", "TERMINATE"
CATEGORY_ASSERTION = {
    "NEGATED_EXISTENCE": Assertion.NEGATED,
    "POSSIBLE_EXISTENCE": Assertion.POSSIBLE,
    "HISTORICAL": Assertion.HISTORICAL,
    "FAMILY": Assertion.FAMILY,
    "HYPOTHETICAL": Assertion.HYPOTHETICAL,
}


@dataclass(frozen=True, slots=True)
class ContextRule:
    literal: str
    """The words of the trigger; or, for a `pattern` rule, a name for it."""
    category: str
    direction: str
    max_scope: int | None = None
    not_after: str | None = None
    """A regular expression: the trigger does not apply right after a token it matches ("3-day" history of)."""
    pattern: str | None = None
    """A regular expression one token must match in full, instead of the literal words ("in 2015")."""
    only_after: str | None = None
    """A regular expression: the trigger applies only right after a token it matches ("in" 2015, not "WBC" 2000)."""


def load_rules() -> tuple[list[ContextRule], list[str]]:
    data = load_resource("context_rules.json")
    rules = [
        ContextRule(
            r["literal"],
            r["category"],
            r["direction"],
            r.get("max_scope"),
            r.get("not_after"),
            r.get("pattern"),
            r.get("only_after"),
        )
        for r in data["rules"]
    ]
    return rules, list(data["priority"])


@dataclass(frozen=True, slots=True)
class Trigger:
    start: int
    end: int
    rules: tuple[ContextRule, ...]

    @property
    def blocks(self) -> bool:
        return any(r.direction in (PSEUDO, TERMINATE) for r in self.rules)

    @property
    def terminates(self) -> bool:
        return any(r.direction == TERMINATE for r in self.rules)


class Triggers:
    """A document's triggers in text order, found by sentence with a binary search."""

    def __init__(self, triggers: list[Trigger]) -> None:
        self.items = triggers
        self.starts = [t.start for t in triggers]

    def __iter__(self):
        return iter(self.items)

    def within(self, first: int, last: int) -> list[Trigger]:
        """The triggers wholly inside tokens [first, last)."""
        low = bisect.bisect_left(self.starts, first)
        high = bisect.bisect_left(self.starts, last)
        return [t for t in self.items[low:high] if t.end <= last]


class ContextEngine:
    """The trigger matcher and the scope rules, shared by the component and `cdss nlp assert`."""

    def __init__(self, nlp: Language) -> None:
        self.rules, priority = load_rules()
        self.priority = [CATEGORY_ASSERTION[c] for c in priority]
        self.by_literal: dict[str, list[ContextRule]] = defaultdict(list)
        self.patterns = [(re.compile(r.pattern, re.IGNORECASE), r) for r in self.rules if r.pattern]
        # One search of the text finds the tokens a pattern might match, instead of a test per token.
        self.pattern_search = (
            re.compile("|".join(rf"(?:{r.pattern})" for _, r in self.patterns), re.IGNORECASE)
            if self.patterns
            else None
        )
        for rule in self.rules:
            if not rule.pattern:
                self.by_literal[rule.literal.casefold()].append(rule)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for literal in self.by_literal:
            self.matcher.add(literal, [nlp.make_doc(literal)])
        _, self.section_defaults = section_rules()

    def triggers(self, doc: Doc) -> Triggers:
        """The document's triggers; of overlapping ones the longest (then the first) wins."""
        taken: set[int] = set()
        chosen: list[tuple[int, int, int]] = []
        for match_id, start, end in sorted(self.matcher(doc), key=lambda m: (m[1] - m[2], m[1])):
            if taken.isdisjoint(range(start, end)):
                chosen.append((start, end, match_id))
                taken.update(range(start, end))
        strings = doc.vocab.strings
        found = [(s, e, tuple(self.by_literal[strings[m]])) for s, e, m in chosen]
        for token in self._pattern_tokens(doc):
            if token.i not in taken:
                matched = tuple(rule for regex, rule in self.patterns if regex.fullmatch(token.text))
                if matched:
                    found.append((token.i, token.i + 1, matched))
        triggers = []
        for start, end, rules in sorted(found, key=lambda f: f[:2]):
            before = doc[start - 1].text if start else ""
            kept = tuple(r for r in rules if _fits_before(r, before))
            if kept:
                triggers.append(Trigger(start, end, kept))
        return Triggers(triggers)

    def _pattern_tokens(self, doc: Doc) -> list:
        """The tokens that start where some pattern matches the text (the patterns then test the whole token)."""
        if self.pattern_search is None:
            return []
        text = doc_text(doc)
        tokens = []
        for match in self.pattern_search.finditer(text):
            span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
            if span is not None and span.start_char == match.start():
                tokens.append(span[0])
        return tokens

    def _applies(
        self,
        rule: ContextRule,
        trigger: Trigger,
        start: int,
        end: int,
        sentence: tuple[int, int],
        others: Sequence[Trigger],
    ) -> bool:
        first, last = sentence
        if rule.direction in (FORWARD, BIDIRECTIONAL) and start >= trigger.end:
            limit = last if rule.max_scope is None else min(last, trigger.end + rule.max_scope)
            for other in others:
                if other.start >= trigger.end and self._stops(other, rule, adjacent=other.start == trigger.end):
                    limit = min(limit, other.start)
                    break
            if start < limit:
                return True
        if rule.direction in (BACKWARD, BIDIRECTIONAL) and end <= trigger.start:
            limit = first if rule.max_scope is None else max(first, trigger.start - rule.max_scope)
            for other in reversed(others):
                if other.end <= trigger.start and self._stops(other, rule, adjacent=other.end == trigger.start):
                    limit = max(limit, other.end)
                    break
            if start >= limit:
                return True
        return False

    @staticmethod
    def _stops(other: Trigger, rule: ContextRule, *, adjacent: bool) -> bool:
        """Whether `other` ends `rule`'s scope: a terminator always does ("fever; mother had"), a trigger of
        another category only when it is not right beside this one ("no" + "family history of" combine)."""
        if other.terminates:
            return True
        return not adjacent and any(
            r.category != rule.category and r.direction not in (PSEUDO, TERMINATE) for r in other.rules
        )

    def assertion(
        self,
        doc: Doc,
        start: int,
        end: int,
        triggers: Triggers,
        sections: SectionIndex | None = None,
        sentences: SentenceIndex | None = None,
    ) -> Assertion:
        """The assertion of the tokens [start, end)."""
        sentence = (sentences or SentenceIndex(doc)).bounds(start)
        local = triggers.within(*sentence)
        found: set[Assertion] = set()
        for trigger in local:
            if trigger.blocks:
                continue
            if trigger.start == start and trigger.end < end:
                # A span that opens with its own modifier ("prior colonoscopy"): the trigger reads forward.
                start = trigger.end
            elif not (trigger.end <= start or trigger.start >= end):
                continue
            for rule in trigger.rules:
                if rule.category in CATEGORY_ASSERTION and self._applies(rule, trigger, start, end, sentence, local):
                    found.add(CATEGORY_ASSERTION[rule.category])
        for assertion in self.priority:
            if assertion in found:
                return assertion
        section = (sections or SectionIndex(doc)).at(start)
        default = self.section_defaults.get(section or "")
        return Assertion(default) if default else Assertion.PRESENT


def measured_assertion(detail: dict | None, context: Assertion) -> Assertion:
    """A measured value says itself whether its finding is there: a normal one that it is absent. The context
    only moves it to the past, the family or a hypothetical; "no" before a number does not negate it."""
    if detail and detail.get("asserts") == "absent":
        return Assertion.NEGATED
    if context in (Assertion.NEGATED, Assertion.POSSIBLE):
        return Assertion.PRESENT
    return context


def _fits_before(rule: ContextRule, before: str) -> bool:
    """Whether the token before a trigger lets the rule apply (`not_after`, `only_after`)."""
    if rule.not_after and before and re.fullmatch(rule.not_after, before, re.IGNORECASE):
        return False
    return not rule.only_after or bool(before and re.fullmatch(rule.only_after, before, re.IGNORECASE))


@Language.factory("cdss_context", assigns=["doc.spans"])
def make_context(nlp: Language, name: str) -> ContextAssertion:
    return ContextAssertion(nlp)


class ContextAssertion:
    """Sets `span._.cdss_assertion` and `span._.cdss_section` on every mention."""

    def __init__(self, nlp: Language) -> None:
        self.engine = ContextEngine(nlp)

    def __call__(self, doc: Doc) -> Doc:
        triggers = self.engine.triggers(doc)
        doc.spans[TRIGGERS] = [
            Span(doc, t.start, t.end, label=t.rules[0].category if t.rules else "UNKNOWN") for t in triggers
        ]
        sections, sentences = SectionIndex(doc), SentenceIndex(doc)
        for mention in doc.spans.get(MENTIONS, []):
            assertion = self.engine.assertion(doc, mention.start, mention.end, triggers, sections, sentences)
            if mention._.cdss_method == MEASUREMENT:
                assertion = measured_assertion(measurement_detail(mention), assertion)
            mention._.cdss_assertion = assertion.value
            mention._.cdss_section = sections.at(mention.start)
        return doc


class SpanAsserter:
    """The pipeline's assertion rules applied to spans given by character offsets.

    Needs no graph: tokenizer, sentences, sections and the ConText engine only.
    This is the NegEx-style evaluation interface behind `cdss nlp assert`.
    """

    def __init__(self) -> None:
        from nlp.tokenizer import blank_pipeline

        self.nlp = blank_pipeline()
        self.nlp.add_pipe("cdss_sentences")
        self.nlp.add_pipe("cdss_sections")
        self.engine = ContextEngine(self.nlp)

    def __call__(self, text: str, spans: Sequence[tuple[int, int]]) -> list[Assertion]:
        doc = self.nlp(text)
        triggers = self.engine.triggers(doc)
        sentences = SentenceIndex(doc)
        out = []
        for start, end in spans:
            if not (0 <= start < end <= len(text)):
                raise InputError(f"span [{start}, {end}] is outside the text (length {len(text)})")
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None or not len(span):
                raise InputError(f"span [{start}, {end}] covers no token")
            out.append(self.engine.assertion(doc, span.start, span.end, triggers, sentences=sentences))
        return out
