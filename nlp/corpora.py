"""Reading annotated corpora: PubTator (BC5CDR, NCBI-disease) and token-per-line CoNLL/IOB."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cdss.errors import SourceParseError
from ontologies.files import text_lines

# Corpus entity types -> the two types the evaluation compares.
TYPE_OF = {
    "chemical": "Chemical",
    "disease": "Disease",
    "specificdisease": "Disease",
    "diseaseclass": "Disease",
    "modifier": "Disease",
    "compositemention": "Disease",
}


@dataclass(frozen=True, slots=True)
class GoldMention:
    start: int
    end: int
    type: str
    ids: tuple[str, ...] = ()
    """Normalisation ids as the corpus gives them, as CURIEs (MESH:D003693, OMIM:114480)."""


@dataclass(slots=True)
class Document:
    id: str
    text: str
    mentions: list[GoldMention] = field(default_factory=list)


def _ids(raw: str) -> tuple[str, ...]:
    out = []
    for part in raw.replace("|", ",").replace("+", ",").split(","):
        part = part.strip()
        if not part or part == "-1":
            continue
        if ":" in part:
            prefix, local = part.split(":", 1)
            out.append(f"{'OMIM' if prefix.upper() in {'OMIM', 'MIM'} else prefix.upper()}:{local}")
        else:
            out.append(f"MESH:{part}")
    return tuple(out)


def read_pubtator(path: Path) -> list[Document]:
    """Title and abstract joined by one space (the offsets assume it), then the mentions."""
    documents: list[Document] = []
    current: Document | None = None
    title = ""
    for lineno, raw in enumerate(text_lines(path, source="corpus"), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            current = None
            continue
        if "|t|" in line[:40] and current is None:
            pmid, _, title = line.split("|", 2)
            current = Document(pmid, "")
            documents.append(current)
            continue
        if current is None:
            raise SourceParseError(path, lineno, "annotation before a document's title line")
        if "|a|" in line[:40]:
            current.text = f"{title} {line.split('|', 2)[2]}"
            continue
        fields = line.split("\t")
        if len(fields) >= 5 and fields[1].isdigit():
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise SourceParseError(path, lineno, f"bad offsets {fields[1]!r}, {fields[2]!r}") from None
            text = current.text or title
            if text[start:end].strip() != fields[3].strip():
                raise SourceParseError(
                    path, lineno, f"offsets {start}-{end} give {text[start:end]!r}, the line says {fields[3]!r}"
                )
            kind = TYPE_OF.get(fields[4].casefold())
            if kind is None:
                raise SourceParseError(path, lineno, f"unknown entity type {fields[4]!r}")
            current.mentions.append(GoldMention(start, end, kind, _ids(fields[5]) if len(fields) > 5 else ()))
        elif len(fields) >= 2 and not fields[1].isdigit():
            continue  # a relation line (PMID, CID, chemical, disease)
        else:
            raise SourceParseError(path, lineno, f"unrecognised line {line[:60]!r}")
    return documents


def read_conll(path: Path) -> list[Document]:
    """One document per sentence; tokens joined by single spaces; BIO or BILOU tags."""
    documents: list[Document] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if not tokens:
            return
        offsets, position = [], 0
        for token in tokens:
            offsets.append((position, position + len(token)))
            position += len(token) + 1
        document = Document(f"{path.stem}-{len(documents) + 1}", " ".join(tokens))
        start = kind = None
        for i, tag in enumerate([*tags, "O"]):
            prefix, _, label = tag.partition("-")
            if kind is not None and prefix not in {"I", "L"}:
                document.mentions.append(GoldMention(offsets[start][0], offsets[i - 1][1], kind))
                kind = None
            if prefix in {"B", "U"} or (prefix in {"I", "L"} and kind is None and label):
                start, kind = i, TYPE_OF.get(label.casefold(), label)
        documents.append(document)
        tokens.clear()
        tags.clear()

    for lineno, raw in enumerate(text_lines(path, source="corpus"), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            flush()
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise SourceParseError(path, lineno, f"expected 'token<TAB>tag', got {line[:60]!r}")
        tokens.append(fields[0])
        tags.append(fields[-1])
    flush()
    return documents


def read_corpus(path: Path, fmt: str) -> list[Document]:
    if fmt == "pubtator":
        return read_pubtator(path)
    if fmt == "conll":
        return read_conll(path)
    raise SourceParseError(path, None, f"unknown corpus format {fmt!r}: expected pubtator or conll")
