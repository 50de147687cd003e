"""Synthea disease modules: the symptoms their authors gave about thirty common conditions.

A module is a state machine; its `Symptom` states name a symptom of the
condition the module is about (a state that sets a symptom's quantity to 0
ends it, and says nothing). Which condition and which finding each
(module, symptom name) is, is our curated table `mappings/synthea_symptoms.tsv`;
a state's `range` is the symptom's severity, not how often it occurs, so an
edge has a frequency only where the table gives the module's explicit
probability.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceError, SourceParseError
from cdss.types import EdgeType
from ontologies.files import FETCH_HINT
from ontologies.mappings import mapping_rows
from ontologies.model import Link, SourceData, SourceRelease

SOURCE = "synthea"
TABLE = "synthea_symptoms.tsv"
COLUMNS = ("module", "symptom", "condition_snomed", "disease", "finding", "probability", "note")
MODULES = "modules"


def symptom_states(path: Path) -> set[str]:
    """The symptom names a module's states give a patient (not the ones that end a symptom)."""
    try:
        module = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"source {SOURCE!r}: cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceParseError(path, None, f"not a JSON module ({exc})") from None
    states = module.get("states") if isinstance(module, dict) else None
    if not isinstance(states, dict):
        raise SourceParseError(path, None, "a Synthea module has a 'states' object")
    names = set()
    for state in states.values():
        if not isinstance(state, dict) or state.get("type") != "Symptom":
            continue
        if (state.get("exact") or {}).get("quantity") == 0:
            continue
        names.add(str(state.get("symptom", "")))
    return names


def _row_curie(value: str, line: int) -> str | None:
    if not value:
        return None
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(f"ontologies/mappings/{TABLE}", line, str(exc)) from None


def load_synthea(folder: Path, release: SourceRelease) -> SourceData:
    data = SourceData(release=release)
    table: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in mapping_rows(TABLE, COLUMNS):
        table.setdefault((row["module"], row["symptom"]), []).append((line, row))
    modules = sorted(p.relative_to(folder / MODULES).as_posix() for p in (folder / MODULES).rglob("*.json"))
    if not modules:
        raise SourceError(f"source {SOURCE!r}: no module files under {folder / MODULES}; {FETCH_HINT}")
    unlisted, unmapped, edges = [], 0, 0
    seen: set[tuple[str, str]] = set()
    for module in modules:
        try:
            names = symptom_states(folder / MODULES / module)
        except SourceError as error:
            data.notes.append(f"{module} left out: {error}")
            continue
        for name in sorted(names):
            rows = table.get((module, name))
            if rows is None:
                unlisted.append(f"{module}: {name!r}")
                continue
            seen.add((module, name))
            for line, row in rows:
                disease, finding = _row_curie(row["disease"], line), _row_curie(row["finding"], line)
                if disease is None or finding is None:
                    unmapped += 1
                    continue
                attributes: dict = {"relation": "synthea_symptom", "synthea_symptom": name, "module": module}
                if row["condition_snomed"]:
                    attributes["condition_snomed"] = row["condition_snomed"]
                if row["probability"]:
                    try:
                        probability = float(row["probability"])
                    except ValueError:
                        raise SourceParseError(
                            f"ontologies/mappings/{TABLE}", line, f"probability {row['probability']!r} is not a number"
                        ) from None
                    if not 0.0 < probability <= 1.0:
                        raise SourceParseError(f"ontologies/mappings/{TABLE}", line, "probability is not in (0, 1]")
                    attributes.update(frequency=probability, frequency_kind="module_probability")
                provenance = release.provenance(evidence=("Synthea module",), references=(f"synthea:{module}",))
                data.links.append(Link.between(EdgeType.HAS_FINDING, disease, finding, provenance, attributes))
                edges += 1
    stale = sorted(f"{m}: {s!r}" for m, s in set(table) - seen if m in modules)
    data.notes.append(f"{edges} symptom links from {len(modules)} modules; {unmapped} table rows name no finding")
    if unlisted:
        data.notes.append(f"symptom states with no row in {TABLE}: {', '.join(unlisted)}")
    if stale:
        data.notes.append(f"rows of {TABLE} that no module state gives: {', '.join(stale)}")
    return data
