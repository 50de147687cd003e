"""RDF/Turtle through rdflib, with OBO PURLs for HPO, DOID and SYMP terms.

Each edge is a plain triple (`IS_A` as rdfs:subClassOf) plus a reified
rdf:Statement, with an IRI derived from the edge key, that carries its
provenance and attributes. rdflib builds every term and spells it (escaping,
prefixes, datatypes); the statements are streamed one subject at a time, as
rdflib's own serializer holds the whole graph in memory and takes minutes on
millions of triples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD, DefinedNamespace, Namespace, NamespaceManager
from rdflib.term import Node

from cdss.curies import curie_to_iri
from cdss.progress import progress
from cdss.types import Concept, Edge, EdgeType, PropertyValue
from kg.store import GraphStore


class CDSS(DefinedNamespace):
    """The cdss schema terms; a typo raises instead of minting a new IRI."""

    _NS = Namespace("https://w3id.org/cdss/schema#")

    Disease: URIRef
    Finding: URIRef
    Drug: URIRef
    Gene: URIRef
    PharmacologicClass: URIRef
    hasFinding: URIRef
    excludesFinding: URIRef
    treats: URIRef
    palliates: URIRef
    contraindicatedFor: URIRef
    notIndicatedFor: URIRef
    associatedWith: URIRef
    targets: URIRef
    inClass: URIRef
    sourceVersion: URIRef
    evidence: URIRef


ATTR = Namespace("https://w3id.org/cdss/attribute#")
"""Open namespace for source-specific attributes (frequency, onset...), whose names are data."""
EDGE = Namespace("https://w3id.org/cdss/edge/")
OBO_IN_OWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
PREFIXES: dict[str, Namespace] = {
    "cdss": Namespace(str(CDSS._NS)),
    "attr": ATTR,
    "edge": EDGE,
    "hp": Namespace("http://purl.obolibrary.org/obo/HP_"),
    "doid": Namespace("http://purl.obolibrary.org/obo/DOID_"),
    "symp": Namespace("http://purl.obolibrary.org/obo/SYMP_"),
    "icd10cm": Namespace("http://purl.bioontology.org/ontology/ICD10CM/"),
    "ncbigene": Namespace("https://identifiers.org/ncbigene:"),
    "oboInOwl": OBO_IN_OWL,
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "skos": Namespace(str(SKOS)),
    "dcterms": Namespace(str(DCTERMS)),
    "xsd": Namespace(str(XSD)),
}
PREDICATES = {
    EdgeType.IS_A: RDFS.subClassOf,
    EdgeType.HAS_FINDING: CDSS.hasFinding,
    EdgeType.EXCLUDES_FINDING: CDSS.excludesFinding,
    EdgeType.TREATS: CDSS.treats,
    EdgeType.PALLIATES: CDSS.palliates,
    EdgeType.CONTRAINDICATED_FOR: CDSS.contraindicatedFor,
    EdgeType.NOT_INDICATED_FOR: CDSS.notIndicatedFor,
    EdgeType.ASSOCIATED_WITH: CDSS.associatedWith,
    EdgeType.TARGETS: CDSS.targets,
    EdgeType.IN_CLASS: CDSS.inClass,
}
CLASSES = {
    "Disease": CDSS.Disease,
    "Finding": CDSS.Finding,
    "Drug": CDSS.Drug,
    "Gene": CDSS.Gene,
    "PharmacologicClass": CDSS.PharmacologicClass,
}

PredicateObjects = list[tuple[URIRef, list[Node]]]


def namespace_manager() -> NamespaceManager:
    manager = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    return manager


def _literals(value: PropertyValue) -> list[Node]:
    return [Literal(item) for item in (value if isinstance(value, list) else [value]) if item is not None]


def edge_iri(edge: Edge) -> URIRef:
    """A stable IRI for an edge statement, from its key."""
    key = "\t".join(str(part) for part in edge.key)
    return EDGE[hashlib.sha1(key.encode()).hexdigest()[:20]]


def node_description(concept: Concept) -> tuple[URIRef, PredicateObjects]:
    subject = URIRef(curie_to_iri(concept.id))
    pairs: PredicateObjects = [
        (RDF.type, [CLASSES[str(concept.label)]]),
        (DCTERMS.identifier, [Literal(concept.id)]),
        (RDFS.label, [Literal(concept.name)]),
        (SKOS.altLabel, [Literal(s) for s in concept.synonyms]),
        (OBO_IN_OWL.hasDbXref, [Literal(x) for x in concept.xrefs]),
        (DCTERMS.source, [Literal(s) for s in concept.sources]),
    ]
    pairs += [(ATTR[key], _literals(value)) for key, value in sorted(concept.attributes.items())]
    return subject, pairs


def edge_descriptions(edge: Edge) -> list[tuple[URIRef, PredicateObjects]]:
    """The plain triple, and the statement that carries its provenance."""
    subject, predicate, obj = URIRef(curie_to_iri(edge.start)), PREDICATES[edge.type], URIRef(curie_to_iri(edge.end))
    p = edge.provenance
    statement: PredicateObjects = [
        (RDF.type, [RDF.Statement]),
        (RDF.subject, [subject]),
        (RDF.predicate, [predicate]),
        (RDF.object, [obj]),
        (DCTERMS.source, [Literal(p.source)]),
        (CDSS.sourceVersion, [Literal(p.version)]),
        (DCTERMS.license, [Literal(p.license)]),
        (CDSS.evidence, [Literal(e) for e in p.evidence]),
        (DCTERMS.references, [Literal(r) for r in p.references]),
    ]
    statement += [(ATTR[key], _literals(value)) for key, value in sorted(edge.attributes.items())]
    return [(subject, [(predicate, [obj])]), (edge_iri(edge), statement)]


def _write(handle: TextIO, manager: NamespaceManager, subject: URIRef, pairs: PredicateObjects) -> None:
    lines = [
        f"{predicate.n3(manager)} {', '.join(o.n3(manager) for o in objects)}"
        for predicate, objects in pairs
        if objects
    ]
    handle.write(f"{subject.n3(manager)} " + " ;\n    ".join(lines) + " .\n")


def _prefix_lines() -> Iterator[str]:
    for prefix, namespace in PREFIXES.items():
        yield f"@prefix {prefix}: <{namespace}> .\n"


def export_turtle(store: GraphStore, path: Path, *, show_progress: bool | None = None) -> tuple[int, int]:
    """Write the graph as Turtle; returns (nodes, edges)."""
    manager = namespace_manager()
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = edges = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"# cdss clinical knowledge graph, version {store.graph_version or 'unbuilt'}\n")
        handle.writelines(_prefix_lines())
        handle.write("\n")
        for concept in progress(store.iter_nodes(), desc="turtle nodes", enabled=show_progress):
            _write(handle, manager, *node_description(concept))
            nodes += 1
        for edge in progress(store.iter_edges(), desc="turtle edges", enabled=show_progress):
            for subject, pairs in edge_descriptions(edge):
                _write(handle, manager, subject, pairs)
            edges += 1
    return nodes, edges
