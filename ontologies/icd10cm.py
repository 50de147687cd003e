"""ICD-10-CM from the CMS tabular XML: the coding backbone for common diseases.

Chapters, blocks and codes become nodes joined by `IS_A`. Chapter 18 (R00-R99,
symptoms, signs and abnormal findings) holds findings, not diseases. Injuries
(S00-T88) are kept to their three-character categories, because their
laterality and encounter subcodes are billing detail rather than distinct
conditions. External causes (V00-Y99) and factors influencing health status
(Z00-Z99) are not conditions of the patient and are left out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from cdss.errors import SourceMissingError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.model import Link, SourceData, SourceRelease

SOURCE = "icd10cm"
LICENSE = "Public domain (US Government work, CDC National Center for Health Statistics)"
PREFIX = "ICD10CM:"

FINDING_CHAPTERS = frozenset({"R00-R99"})
CATEGORY_ONLY_CHAPTERS = frozenset({"S00-T88"})
SKIPPED_CHAPTERS = frozenset({"V00-Y99", "Z00-Z99"})

_RANGE_SUFFIX = re.compile(r"\s*\(([A-Z0-9]{3}-[A-Z0-9]{3})\)\s*$")
_RELEASE_DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|November|December)-(\d{1,2})-(\d{4})"
)


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _notes(element: ET.Element, tag: str) -> list[str]:
    return [_text(note) for block in element.findall(tag) for note in block.findall("note") if _text(note)]


def _split_range(desc: str) -> tuple[str, str | None]:
    match = _RANGE_SUFFIX.search(desc)
    if match is None:
        return desc, None
    return desc[: match.start()], match.group(1)


def find_tabular_xml(data_dir: Path) -> Path:
    """The one CMS tabular XML file in a package's data folder."""
    candidates = sorted(data_dir.glob("icd10c*-tabular-*.xml"))
    if len(candidates) != 1:
        raise SourceMissingError(
            SOURCE, data_dir / "icd10cm-tabular-*.xml", "reinstall simple-icd-10-cm (`pip install simple-icd-10-cm`)"
        )
    return candidates[0]


def release_version(path: Path, root: ET.Element) -> str:
    """e.g. `2026 (April 1, 2026 update)` from the XML's <version> and the file name."""
    version = _text(root.find("version")) or "unknown"
    date = _RELEASE_DATE.search(path.name)
    if date:
        month, day, year = date.groups()
        return f"{version} ({month} {day}, {year} update)"
    return version


class _Collector:
    def __init__(self, release: SourceRelease, path: Path) -> None:
        self.release = release
        self.path = path
        self.provenance = release.provenance()
        self.data = SourceData(release=release)
        self.seen: set[str] = set()

    def add(
        self, code: str, label: NodeLabel, name: str, kind: str, parent: str | None, element: ET.Element | None
    ) -> str:
        node_id = PREFIX + code
        if node_id in self.seen:
            raise SourceParseError(self.path, None, f"ICD-10-CM id {code!r} appears twice")
        self.seen.add(node_id)
        attributes: dict = {"kind": kind}
        synonyms: list[str] = []
        if element is not None:
            synonyms = sorted({t for t in _notes(element, "inclusionTerm") if t != name})
            excludes = _notes(element, "excludes1")
            if excludes:
                attributes["excludes1"] = excludes
        self.data.concepts.append(
            Concept(
                id=node_id, label=label, name=name, synonyms=tuple(synonyms), sources=(SOURCE,), attributes=attributes
            )
        )
        if parent is not None:
            self.data.links.append(Link.between(EdgeType.IS_A, node_id, parent, self.provenance))
        return node_id

    def add_diags(
        self, parent_element: ET.Element, parent: str, label: NodeLabel, depth: int, max_depth: int | None
    ) -> None:
        for diag in parent_element.findall("diag"):
            code = _text(diag.find("name"))
            if not code:
                raise SourceParseError(self.path, None, f"a <diag> under {parent} has no <name>")
            kind = "category" if depth == 0 else "subcategory"
            node_id = self.add(code, label, _text(diag.find("desc")) or code, kind, parent, diag)
            if max_depth is None or depth + 1 < max_depth:
                self.add_diags(diag, node_id, label, depth + 1, max_depth)


def load_icd10cm(path: Path) -> SourceData:
    """Read the CMS ICD-10-CM tabular XML at `path`."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise SourceMissingError(SOURCE, path, "reinstall simple-icd-10-cm") from None
    except ET.ParseError as exc:
        line, _column = exc.position
        raise SourceParseError(path, line, f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if root.tag != "ICD10CM.tabular":
        raise SourceParseError(path, None, f"root element is <{root.tag}>, expected <ICD10CM.tabular>")
    release = SourceRelease(name=SOURCE, version=release_version(path, root), license=LICENSE)
    out = _Collector(release, path)
    skipped = 0
    for chapter in root.findall("chapter"):
        title, chapter_range = _split_range(_text(chapter.find("desc")))
        if chapter_range is None:
            raise SourceParseError(
                path, None, f"chapter {_text(chapter.find('name'))!r} has no code range in its title"
            )
        if chapter_range in SKIPPED_CHAPTERS:
            skipped += sum(1 for _ in chapter.iter("diag"))
            continue
        label = NodeLabel.FINDING if chapter_range in FINDING_CHAPTERS else NodeLabel.DISEASE
        max_depth = 1 if chapter_range in CATEGORY_ONLY_CHAPTERS else None
        chapter_id = out.add(chapter_range, label, title, "chapter", None, None)
        for section in chapter.findall("section"):
            section_code = section.get("id") or ""
            section_title, _ = _split_range(_text(section.find("desc")))
            # A one-code block has the same code as its only category: the category stands for it.
            parent = chapter_id
            if "-" in section_code:
                parent = out.add(section_code, label, section_title, "block", chapter_id, None)
            out.add_diags(section, parent, label, 0, max_depth)
    if skipped:
        out.data.notes.append(
            f"{skipped} codes in chapters V00-Y99 and Z00-Z99 (external causes, health factors) left out"
        )
    return out.data
