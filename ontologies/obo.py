"""A small, strict reader for OBO 1.2/1.4 flat files (hp.obo, symp.obo).

It keeps what the graph needs (ids, names, definitions, synonyms, xrefs, is_a,
alt_ids, obsoletion) and fails with the file and line of anything malformed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cdss.errors import SourceParseError
from ontologies.files import text_lines

SYNONYM_SCOPES = frozenset({"EXACT", "RELATED", "BROAD", "NARROW"})


@dataclass(slots=True)
class OboSynonym:
    text: str
    scope: str
    type: str | None = None


@dataclass(slots=True)
class OboTerm:
    id: str
    line: int
    name: str | None = None
    definition: str | None = None
    synonyms: list[OboSynonym] = field(default_factory=list)
    xrefs: list[str] = field(default_factory=list)
    is_a: list[str] = field(default_factory=list)
    alt_ids: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)
    is_obsolete: bool = False


@dataclass(slots=True)
class OboDocument:
    header: dict[str, list[str]]
    terms: dict[str, OboTerm]

    def header_value(self, tag: str) -> str | None:
        values = self.header.get(tag)
        return values[0] if values else None


def _read_quoted(value: str, where: tuple[str, int]) -> tuple[str, str]:
    """Split `"text with \\" escapes" rest` into (text, rest)."""
    if not value.startswith('"'):
        raise SourceParseError(*where, f"expected a quoted string, got {value[:40]!r}")
    close = value.find('"', 1)
    if close > 0 and "\\" not in value[:close]:
        return value[1:close], value[close + 1 :].strip()
    out: list[str] = []
    i = 1
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), value[i + 1 :].strip()
        out.append(ch)
        i += 1
    raise SourceParseError(*where, f"unterminated quoted string {value[:40]!r}")


def _strip_comment(value: str) -> str:
    """Drop a trailing `! comment` and `{modifiers}` from an unquoted value."""
    bang = value.find(" !")
    if bang >= 0:
        value = value[:bang]
    elif value.startswith("!"):
        return ""
    brace = value.find(" {")
    if brace >= 0 and value.rstrip().endswith("}"):
        value = value[:brace]
    return value.strip()


def _parse_synonym(value: str, where: tuple[str, int]) -> OboSynonym:
    text, rest = _read_quoted(value, where)
    parts = rest.split()
    scope = "RELATED"
    syn_type: str | None = None
    if parts and parts[0] in SYNONYM_SCOPES:
        scope = parts[0]
        if len(parts) > 1 and not parts[1].startswith("["):
            syn_type = parts[1]
    elif parts and not parts[0].startswith("["):
        raise SourceParseError(*where, f"unknown synonym scope {parts[0]!r}")
    return OboSynonym(text=text, scope=scope, type=syn_type)


def _apply_tag(term: OboTerm, tag: str, value: str, where: tuple[str, int]) -> None:
    if tag == "name":
        term.name = _strip_comment(value)
    elif tag == "def":
        term.definition, _ = _read_quoted(value, where)
    elif tag == "synonym":
        term.synonyms.append(_parse_synonym(value, where))
    elif tag == "xref":
        token = _strip_comment(value).split(" ", 1)[0]
        if token:
            term.xrefs.append(token)
    elif tag == "is_a":
        token = _strip_comment(value).split(" ", 1)[0]
        if not token:
            raise SourceParseError(*where, "is_a without a parent id")
        term.is_a.append(token)
    elif tag == "alt_id":
        term.alt_ids.append(_strip_comment(value))
    elif tag == "replaced_by":
        term.replaced_by.append(_strip_comment(value))
    elif tag == "is_obsolete":
        term.is_obsolete = _strip_comment(value).lower() == "true"


def parse_obo_lines(lines: Iterable[str], path: str | Path) -> OboDocument:
    """Parse OBO text; `path` only names the file in error messages."""
    header: dict[str, list[str]] = {}
    terms: dict[str, OboTerm] = {}
    stanza: str | None = None
    current: OboTerm | None = None
    stanza_line = 0

    def close() -> None:
        nonlocal current
        if stanza == "Term":
            if current is None:
                raise SourceParseError(path, stanza_line, "[Term] stanza has no id")
            if current.id in terms:
                raise SourceParseError(path, stanza_line, f"duplicate term id {current.id!r}")
            terms[current.id] = current
        current = None

    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            close()
            stanza = stripped[1:-1].strip()
            stanza_line = lineno
            continue
        tag, sep, value = stripped.partition(":")
        if not sep or not tag or " " in tag:
            raise SourceParseError(path, lineno, f"expected 'tag: value', got {stripped[:60]!r}")
        value = value.strip()
        where = (str(path), lineno)
        if stanza is None:
            header.setdefault(tag, []).append(value)
        elif stanza == "Term":
            if tag == "id":
                if current is not None:
                    raise SourceParseError(path, lineno, "second id in one [Term] stanza")
                term_id = _strip_comment(value)
                if ":" not in term_id:
                    raise SourceParseError(path, lineno, f"term id {term_id!r} is not a CURIE")
                current = OboTerm(id=term_id, line=stanza_line)
            elif current is None:
                raise SourceParseError(path, lineno, f"tag {tag!r} before the stanza's id")
            else:
                _apply_tag(current, tag, value, where)
    close()
    return OboDocument(header=header, terms=terms)


def parse_obo(path: Path, *, source: str) -> OboDocument:
    """Parse an OBO file from disk; `source` names the source if the file is missing."""
    return parse_obo_lines(text_lines(path, source=source), path)
