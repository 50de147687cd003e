"""Every SQL statement of the embedded store, in one place.

Values are always bound parameters; nothing here is built from data.
"""

SCHEMA_VERSION = "1"

# Tables first; lookup indexes, full-text triggers and the full-text index after them,
# so that a full build can load rows first and index once at the end (several times faster).
TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS nodes (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    name       TEXT NOT NULL,
    synonyms   TEXT NOT NULL,
    xrefs      TEXT NOT NULL,
    sources    TEXT NOT NULL,
    attributes TEXT NOT NULL
) WITHOUT ROWID;

-- Names and synonyms, one row each, for exact lookup (norm) and full-text search.
CREATE TABLE IF NOT EXISTS node_terms (
    rid     INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL,
    label   TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('name', 'synonym')),
    term    TEXT NOT NULL,
    norm    TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS node_terms_fts USING fts5 (
    term,
    content = 'node_terms',
    content_rowid = 'rid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
-- Upserts replace a node's terms and xrefs by node id, so these exist from the start.
CREATE INDEX IF NOT EXISTS node_terms_by_node ON node_terms (node_id);

CREATE TABLE IF NOT EXISTS node_xrefs (
    xref    TEXT NOT NULL,
    node_id TEXT NOT NULL,
    PRIMARY KEY (xref, node_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS node_xrefs_by_node ON node_xrefs (node_id);

CREATE TABLE IF NOT EXISTS edges (
    type           TEXT NOT NULL,
    start_id       TEXT NOT NULL,
    end_id         TEXT NOT NULL,
    source         TEXT NOT NULL,
    source_version TEXT NOT NULL,
    license        TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    refs           TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    PRIMARY KEY (type, start_id, end_id, source)
) WITHOUT ROWID;
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS nodes_by_label ON nodes (label, id);
CREATE INDEX IF NOT EXISTS node_terms_by_norm ON node_terms (norm);
CREATE INDEX IF NOT EXISTS edges_by_start ON edges (start_id, type);
CREATE INDEX IF NOT EXISTS edges_by_end ON edges (end_id, type);
CREATE TRIGGER IF NOT EXISTS node_terms_after_insert AFTER INSERT ON node_terms BEGIN
    INSERT INTO node_terms_fts (rowid, term) VALUES (new.rid, new.term);
END;
CREATE TRIGGER IF NOT EXISTS node_terms_after_delete AFTER DELETE ON node_terms BEGIN
    INSERT INTO node_terms_fts (node_terms_fts, rowid, term) VALUES ('delete', old.rid, old.term);
END;
"""
REBUILD_FULL_TEXT = "INSERT INTO node_terms_fts (node_terms_fts) VALUES ('rebuild')"

UPSERT_META = """
INSERT INTO meta (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""
SELECT_META = "SELECT key, value FROM meta"

UPSERT_NODE = """
INSERT INTO nodes (id, label, name, synonyms, xrefs, sources, attributes) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    label = excluded.label, name = excluded.name, synonyms = excluded.synonyms,
    xrefs = excluded.xrefs, sources = excluded.sources, attributes = excluded.attributes
"""
DELETE_NODE_TERMS = "DELETE FROM node_terms WHERE node_id = ?"
INSERT_NODE_TERM = "INSERT INTO node_terms (node_id, label, kind, term, norm) VALUES (?, ?, ?, ?, ?)"
DELETE_NODE_XREFS = "DELETE FROM node_xrefs WHERE node_id = ?"
INSERT_NODE_XREF = "INSERT OR IGNORE INTO node_xrefs (xref, node_id) VALUES (?, ?)"

UPSERT_EDGE = """
INSERT INTO edges (type, start_id, end_id, source, source_version, license, evidence, refs, attributes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (type, start_id, end_id, source) DO UPDATE SET
    source_version = excluded.source_version, license = excluded.license, evidence = excluded.evidence,
    refs = excluded.refs, attributes = excluded.attributes
"""

DELETE_EDGE = "DELETE FROM edges WHERE type = ? AND start_id = ? AND end_id = ? AND source = ?"

NODE_COLUMNS = "n.id, n.label, n.name, n.synonyms, n.xrefs, n.sources, n.attributes"
EDGE_COLUMNS = "type, start_id, end_id, source, source_version, license, evidence, refs, attributes"

SELECT_NODES_BY_IDS = f"SELECT {NODE_COLUMNS} FROM nodes n WHERE n.id IN (SELECT value FROM json_each(?))"
SELECT_NODES_BY_XREF = f"""
SELECT {NODE_COLUMNS} FROM node_xrefs x JOIN nodes n ON n.id = x.node_id
WHERE x.xref = ? ORDER BY n.id
"""
SELECT_NODES_BY_NORM = f"""
SELECT DISTINCT {NODE_COLUMNS} FROM node_terms t JOIN nodes n ON n.id = t.node_id
WHERE t.norm = :norm AND (:label IS NULL OR t.label = :label) ORDER BY n.id
"""
# bm25() is only allowed directly on the FTS table, so rank there, then group per node.
SEARCH_NODES = f"""
WITH hits AS (
    SELECT t.node_id AS node_id, t.kind AS kind, t.norm AS norm, t.term AS term, bm25(node_terms_fts) AS rank
    FROM node_terms_fts JOIN node_terms t ON t.rid = node_terms_fts.rowid
    WHERE node_terms_fts MATCH :query AND (:label IS NULL OR t.label = :label)
    ORDER BY rank LIMIT :candidates
), per_node AS (
    SELECT node_id,
           MAX(kind = 'name' AND norm = :norm) AS exact_name,
           MAX(norm = :norm) AS exact,
           MIN(rank) AS rank,
           MIN(length(term)) AS shortest
    FROM hits
    GROUP BY node_id
)
SELECT {NODE_COLUMNS} FROM per_node p JOIN nodes n ON n.id = p.node_id
ORDER BY p.exact_name DESC, p.exact DESC, p.rank, p.shortest, n.id
LIMIT :limit
"""

SELECT_EDGES_OUT = f"""
SELECT {EDGE_COLUMNS} FROM edges
WHERE start_id = :node AND (:types IS NULL OR type IN (SELECT value FROM json_each(:types)))
ORDER BY type, end_id, source LIMIT :limit
"""
SELECT_EDGES_IN = f"""
SELECT {EDGE_COLUMNS} FROM edges
WHERE end_id = :node AND (:types IS NULL OR type IN (SELECT value FROM json_each(:types)))
ORDER BY type, start_id, source LIMIT :limit
"""
SELECT_ALL_NODES = f"SELECT {NODE_COLUMNS} FROM nodes n WHERE :label IS NULL OR n.label = :label ORDER BY n.id"
SELECT_ALL_EDGES = f"""
SELECT {EDGE_COLUMNS} FROM edges WHERE :type IS NULL OR type = :type ORDER BY type, start_id, end_id, source
"""
SELECT_EDGES_FROM_LABEL = f"""
SELECT {", ".join("e." + column for column in EDGE_COLUMNS.split(", "))}
FROM edges e JOIN nodes n ON n.id = e.start_id
WHERE (:type IS NULL OR e.type = :type) AND n.label = :label
ORDER BY e.type, e.start_id, e.end_id, e.source
"""

COUNT_NODES_BY_LABEL = "SELECT label, COUNT(*) FROM nodes GROUP BY label"
COUNT_EDGES_BY_TYPE = "SELECT type, COUNT(*) FROM edges GROUP BY type"
COUNT_NODES_BY_SOURCE = """
SELECT s.value, n.label, COUNT(*) FROM nodes n, json_each(n.sources) s GROUP BY s.value, n.label
"""
COUNT_EDGES_BY_SOURCE = "SELECT source, type, COUNT(*) FROM edges GROUP BY source, type"
COUNT_HAS_FINDING_WITH_FREQUENCY = """
SELECT COUNT(*) FROM edges
WHERE type = 'HAS_FINDING' AND json_extract(attributes, '$.frequency') IS NOT NULL
"""
