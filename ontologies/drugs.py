"""Drugs from the dictionary bundled with the `drug-named-entity-recognition` package.

The dictionary is a pickle, and unpickling runs code, so it is only ever read
from the installed package's own folder, never from a path a user passes in.
Each canonical drug becomes one `Drug` node keyed by DrugBank id, else MeSH,
else MedlinePlus; name variants (brand names included) become synonyms.
"""

from __future__ import annotations

import bz2
import pickle
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from cdss.errors import SourceMissingError, SourceParseError
from cdss.types import Concept, NodeLabel
from ontologies.bundled import package_data_file
from ontologies.model import SourceData, SourceRelease

SOURCE = "drug_dictionary"
PACKAGE = "drug-named-entity-recognition"
MODULE = "drug_named_entity_recognition"
PICKLE_NAME = "drug_ner_dictionary.pkl.bz2"
LICENSE = "MIT (drug-named-entity-recognition); DrugBank open vocabulary CC0 1.0; MeSH from the US NLM"


def _own_ids(data: Mapping[str, Any]) -> list[str]:
    """The entry's ids, strongest first: DrugBank, then MeSH, then MedlinePlus."""
    ids = []
    if data.get("drugbank_id"):
        ids.append(f"DRUGBANK:{data['drugbank_id']}")
    if data.get("mesh_id"):
        ids.append(f"MESH:{data['mesh_id']}")
    if data.get("medline_plus_id"):
        ids.append(f"MEDLINEPLUS:{data['medline_plus_id']}")
    return ids


def _node_ids(canonical_to_data: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Canonical name -> node id, so that an entry known only by MeSH or MedlinePlus
    joins the DrugBank entry that carries the same MeSH or MedlinePlus id."""
    owner: dict[str, str] = {}
    for canonical in sorted(canonical_to_data):
        ids = _own_ids(canonical_to_data[canonical])
        if ids and ids[0].startswith("DRUGBANK:"):
            for other in ids[1:]:
                owner.setdefault(other, ids[0])
    node_ids = {}
    for canonical, data in canonical_to_data.items():
        ids = _own_ids(data)
        if ids:
            node_ids[canonical] = ids[0] if ids[0].startswith("DRUGBANK:") else owner.get(ids[0], ids[0])
    return node_ids


def concepts_from_dictionary(dictionary: Mapping[str, Any], release: SourceRelease) -> SourceData:
    """Turn the package's three lookup tables into one concept per drug id."""
    try:
        variant_to_canonical: Mapping[str, list[str]] = dictionary["drug_variant_to_canonical"]
        canonical_to_data: Mapping[str, Mapping[str, Any]] = dictionary["drug_canonical_to_data"]
        variant_data: Mapping[str, Mapping[str, Any]] = dictionary.get("drug_variant_to_variant_data", {})
    except (KeyError, TypeError) as exc:
        raise SourceParseError(PICKLE_NAME, None, f"unexpected drug dictionary layout: missing {exc}") from None
    variants: dict[str, set[str]] = {}
    for variant, canonicals in variant_to_canonical.items():
        for canonical in canonicals:
            variants.setdefault(canonical, set()).add(variant)

    node_ids = _node_ids(canonical_to_data)
    merged: dict[str, dict[str, Any]] = {}
    without_id = 0
    # Entries with their own DrugBank id come first so that they name the node.
    for canonical in sorted(canonical_to_data, key=lambda c: (not canonical_to_data[c].get("drugbank_id"), c)):
        data = canonical_to_data[canonical]
        node_id = node_ids.get(canonical)
        if node_id is None:
            without_id += 1
            continue
        entry = merged.setdefault(
            node_id,
            {"name": data.get("name") or canonical, "names": set(), "brands": set(), "xrefs": set(), "attrs": {}},
        )
        names = variants.get(canonical, set()) | {canonical} | set(data.get("synonyms", []))
        entry["names"].update(names)
        entry["brands"].update(n for n in names if variant_data.get(n, {}).get("is_brand"))
        entry["xrefs"].update(i for i in _own_ids(data) if i != node_id)
        if data.get("mesh_tree"):
            entry["attrs"].setdefault("mesh_tree", set()).update(data["mesh_tree"])
        if data.get("formula"):
            entry["attrs"].setdefault("formula", data["formula"])

    out = SourceData(release=release)
    for node_id in sorted(merged):
        entry = merged[node_id]
        name = entry["name"]
        lowered = name.casefold()
        synonyms = sorted(n for n in entry["names"] if n.casefold() != lowered)
        attributes: dict[str, Any] = {}
        if "mesh_tree" in entry["attrs"]:
            attributes["mesh_tree"] = sorted(entry["attrs"]["mesh_tree"])
        if "formula" in entry["attrs"]:
            attributes["formula"] = entry["attrs"]["formula"]
        if entry["brands"]:
            attributes["brand_names"] = sorted(entry["brands"])
        out.concepts.append(
            Concept(
                id=node_id,
                label=NodeLabel.DRUG,
                name=name,
                synonyms=tuple(synonyms),
                xrefs=tuple(sorted(entry["xrefs"])),
                sources=(SOURCE,),
                attributes=attributes,
            )
        )
    if without_id:
        out.notes.append(f"{without_id} dictionary entries have no DrugBank, MeSH or MedlinePlus id and were left out")
    return out


def load_drug_dictionary() -> SourceData:
    """Read the dictionary from the installed package; there is deliberately no path argument."""
    path = package_data_file(MODULE, PICKLE_NAME, install_hint=f"pip install {PACKAGE}")
    try:
        release_version = package_version(PACKAGE)
    except PackageNotFoundError:
        raise SourceMissingError(SOURCE, path, f"pip install {PACKAGE}") from None
    try:
        with bz2.open(path, "rb") as handle:
            dictionary = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        raise SourceParseError(path, None, f"cannot read the drug dictionary ({exc})") from None
    release = SourceRelease(name=SOURCE, version=release_version, license=LICENSE)
    return concepts_from_dictionary(dictionary, release)
