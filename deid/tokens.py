"""Word tokens with offsets, and the few shape tests the name and place rules share."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]|\d+|\S")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    dotted: bool
    """A full stop follows at once ("Dr.", "S.")."""
    sentence_start: bool

    @property
    def lower(self) -> str:
        return self.bare.lower()

    @property
    def bare(self) -> str:
        """Without a possessive 's."""
        return re.sub(r"['’]s$", "", self.text)

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() and any(c.islower() for c in self.text[1:])

    @property
    def initial(self) -> bool:
        return len(self.text) == 1 and self.text.isupper() and self.dotted

    @property
    def end_with_dot(self) -> int:
        return self.end + 1 if self.dotted else self.end


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        before = text[: match.start()].rstrip()
        tokens.append(
            Token(
                match.group(),
                match.start(),
                match.end(),
                text[match.end() : match.end() + 1] == ".",
                not before or before[-1] in ".!?:\n" or text[match.start() - 1 : match.start()] == "\n",
            )
        )
    return tokens
