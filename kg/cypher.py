"""Every Cypher statement the Neo4j store runs, in one place.

Values always travel as parameters. Labels, relationship types and index
names cannot be parameters in Cypher, so the statements that need them are
generated here once, from the closed sets in `cdss.types` (never from input),
one statement per label or type.

Graph layout in Neo4j: every node has the label `Concept` plus its own
(`Disease`, `Finding`, `Drug`, `Record`) and the properties id, name,
synonyms, xrefs, sources, attributes (JSON), and three search keys:
`terms` (normalised names, one per line, for the full-text indexes),
`norm_key` and `xref_key` (`|a|b|` strings, for exact lookups through TEXT
indexes). Scalar attributes are also copied to properties so Browser
queries can use them (`r.frequency`); reads use the JSON. Build metadata
lives in `CdssMeta {key, value}` nodes.
"""

from __future__ import annotations

from cdss.types import EdgeType, NodeLabel

CONCEPT = "Concept"
META = "CdssMeta"
LABELS = tuple(str(label) for label in NodeLabel)
EDGE_TYPES = tuple(str(edge_type) for edge_type in EdgeType)
FULLTEXT_ALL = "concept_terms"


def fulltext_index(label: str) -> str:
    return f"{label.lower()}_terms"


CONSTRAINTS = (
    f"CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (n:{CONCEPT}) REQUIRE n.id IS UNIQUE",
    *(f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE" for label in LABELS),
    f"CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:{META}) REQUIRE m.key IS UNIQUE",
)
# `terms` holds names already normalised by `normalize_term`, so the index splits on whitespace only: the
# server's default analyzer could stem words or split scripts differently from our own lookups.
FULLTEXT_OPTIONS = "OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}"
INDEXES = (
    f"CREATE TEXT INDEX concept_norm_key IF NOT EXISTS FOR (n:{CONCEPT}) ON (n.norm_key)",
    f"CREATE TEXT INDEX concept_xref_key IF NOT EXISTS FOR (n:{CONCEPT}) ON (n.xref_key)",
    f"CREATE FULLTEXT INDEX {FULLTEXT_ALL} IF NOT EXISTS FOR (n:{CONCEPT}) ON EACH [n.terms] {FULLTEXT_OPTIONS}",
    *(
        f"CREATE FULLTEXT INDEX {fulltext_index(label)} IF NOT EXISTS FOR (n:{label}) ON EACH [n.terms] "
        f"{FULLTEXT_OPTIONS}"
        for label in LABELS
    ),
)
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

SERVER_VERSION = "CALL dbms.components() YIELD name, versions, edition RETURN name, versions[0] AS version, edition"

# -- writes ---------------------------------------------------------------------------------------------------------

# `SET n = row.properties` replaces every property, so a node written again loses stale names and attributes.
UPSERT_NODES = {
    label: (
        f"UNWIND $rows AS row "
        f"MERGE (n:{CONCEPT} {{id: row.id}}) "
        f"SET n = row.properties "
        f"SET n:{label} "
        + "".join(f"REMOVE n:{other} " for other in LABELS if other != label)
        + "RETURN count(n) AS written"
    )
    for label in LABELS
}

# The edge key is (type, start, end, source): MERGE on it, then replace the other properties.
UPSERT_EDGES = {
    edge_type: (
        f"UNWIND $rows AS row "
        f"MATCH (a:{CONCEPT} {{id: row.start}}) "
        f"MATCH (b:{CONCEPT} {{id: row.end}}) "
        f"MERGE (a)-[r:{edge_type} {{source: row.source}}]->(b) "
        f"SET r = row.properties "
        f"RETURN count(r) AS written"
    )
    for edge_type in EDGE_TYPES
}

DELETE_EDGES = (
    f"UNWIND $rows AS row "
    f"MATCH (a:{CONCEPT} {{id: row.start}})-[r]->(b:{CONCEPT} {{id: row.end}}) "
    f"WHERE type(r) = row.type AND r.source = row.source "
    f"DELETE r "
    f"RETURN count(r) AS deleted"
)

UPSERT_META = f"UNWIND $rows AS row MERGE (m:{META} {{key: row.key}}) SET m.value = row.value"

# -- reads ----------------------------------------------------------------------------------------------------------

NODE_FIELDS = (
    f"n.id AS id, [l IN labels(n) WHERE l <> '{CONCEPT}'][0] AS label, n.name AS name, "
    "n.synonyms AS synonyms, n.xrefs AS xrefs, n.sources AS sources, n.attributes AS attributes"
)
EDGE_FIELDS = (
    "type(r) AS type, a.id AS start, b.id AS end, r.source AS source, r.source_version AS version, "
    "r.license AS license, r.evidence AS evidence, r.references AS references, r.attributes AS attributes"
)

NODES_BY_IDS = f"UNWIND $ids AS wanted MATCH (n:{CONCEPT} {{id: wanted}}) RETURN {NODE_FIELDS}"
NODES_BY_XREF = f"MATCH (n:{CONCEPT}) WHERE n.xref_key CONTAINS $key RETURN {NODE_FIELDS} ORDER BY n.id"
NODES_BY_NORM = (
    f"MATCH (n:{CONCEPT}) WHERE n.norm_key CONTAINS $key AND ($label IS NULL OR $label IN labels(n)) "
    f"RETURN {NODE_FIELDS} ORDER BY n.id"
)
SEARCH = {
    None: (
        f"CALL db.index.fulltext.queryNodes('{FULLTEXT_ALL}', $query, {{limit: $candidates}}) YIELD node AS n, score "
        f"RETURN {NODE_FIELDS}, score"
    ),
    **{
        label: (
            f"CALL db.index.fulltext.queryNodes('{fulltext_index(label)}', $query, {{limit: $candidates}}) "
            f"YIELD node AS n, score RETURN {NODE_FIELDS}, score"
        )
        for label in LABELS
    },
}

EDGES_OUT = (
    f"MATCH (a:{CONCEPT} {{id: $node}})-[r]->(b:{CONCEPT}) WHERE $types IS NULL OR type(r) IN $types "
    f"RETURN {EDGE_FIELDS} ORDER BY type, end, source LIMIT $limit"
)
EDGES_IN = (
    f"MATCH (a:{CONCEPT})-[r]->(b:{CONCEPT} {{id: $node}}) WHERE $types IS NULL OR type(r) IN $types "
    f"RETURN {EDGE_FIELDS} ORDER BY type, start, source LIMIT $limit"
)

# Whole-graph reads stream in one result each (the driver fetches in batches), sorted as the interface promises.
NODES_ALL = f"MATCH (n:{CONCEPT}) WHERE $label IS NULL OR $label IN labels(n) RETURN {NODE_FIELDS} ORDER BY n.id"
EDGES_ALL = {
    edge_type: (f"MATCH (a:{CONCEPT})-[r:{edge_type}]->(b:{CONCEPT}) RETURN {EDGE_FIELDS} ORDER BY start, end, source")
    for edge_type in EDGE_TYPES
}
EDGES_FROM_LABEL = {
    (edge_type, label): (
        f"MATCH (a:{CONCEPT}:{label})-[r:{edge_type}]->(b:{CONCEPT}) RETURN {EDGE_FIELDS} ORDER BY start, end, source"
    )
    for edge_type in EDGE_TYPES
    for label in LABELS
}

META_ALL = f"MATCH (m:{META}) RETURN m.key AS key, m.value AS value"

COUNT_NODES_BY_LABEL = (
    f"MATCH (n:{CONCEPT}) UNWIND [l IN labels(n) WHERE l <> '{CONCEPT}'] AS label RETURN label, count(*) AS count"
)
COUNT_EDGES_BY_TYPE = f"MATCH (:{CONCEPT})-[r]->(:{CONCEPT}) RETURN type(r) AS type, count(*) AS count"
COUNT_NODES_BY_SOURCE = (
    f"MATCH (n:{CONCEPT}) UNWIND n.sources AS source UNWIND [l IN labels(n) WHERE l <> '{CONCEPT}'] AS label "
    "RETURN source, label, count(*) AS count"
)
COUNT_EDGES_BY_SOURCE = (
    f"MATCH (:{CONCEPT})-[r]->(:{CONCEPT}) RETURN r.source AS source, type(r) AS type, count(*) AS count"
)
COUNT_HAS_FINDING_WITH_FREQUENCY = (
    f"MATCH (:{CONCEPT})-[r:{EdgeType.HAS_FINDING}]->(:{CONCEPT}) WHERE r.frequency IS NOT NULL "
    "RETURN count(r) AS count"
)

# -- maintenance (tests and re-initialisation) ------------------------------------------------------------------------

# Relationships first, in pages, so no transaction has to hold a hub node's every relationship at once.
DELETE_RELATIONSHIPS_PAGE = (
    f"MATCH (:{CONCEPT})-[r]->(:{CONCEPT}) WITH r LIMIT $page DELETE r RETURN count(r) AS deleted"
)
DELETE_NODES_PAGE = (
    f"MATCH (n) WHERE n:{CONCEPT} OR n:{META} WITH n LIMIT $page DETACH DELETE n RETURN count(n) AS deleted"
)
