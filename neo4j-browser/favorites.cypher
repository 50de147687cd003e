// Ready queries for Neo4j Browser over the cdss graph (Cypher 5, Neo4j 5.6 or later).
//
// Each query starts with a `// name:` line, then says what it shows, then gives `:param`
// examples. Run the `:param` lines first (without the leading //), then the query; or paste a
// block into the editor and star it to keep it as a favourite. The same queries, with buttons
// that fill the editor, are in guide.html (`:play http://localhost:8001/guide.html`).
//
// Graph model: (:Disease), (:Finding), (:Drug), (:Gene), (:PharmacologicClass), (:Record) nodes
// with id, name, synonyms, xrefs, sources; every relationship carries source, source_version,
// license, evidence, references.


// name: Find a concept by name
// The diseases, findings, drugs, genes and drug classes whose name or a synonym contains the
// text, with their ids, to use as $disease, $findings, $drug, $from and $to below.
// :param text => 'pneumonia'
MATCH (n:Disease|Finding|Drug|Gene|PharmacologicClass)
WHERE toLower(n.name) CONTAINS toLower($text)
   OR any(synonym IN n.synonyms WHERE toLower(synonym) CONTAINS toLower($text))
RETURN [label IN labels(n) WHERE label IN ['Disease', 'Finding', 'Drug', 'Gene', 'PharmacologicClass']][0]
         AS label,
       n.id AS id, n.name AS name, n.sources AS sources
ORDER BY size(n.name), n.name
LIMIT 25;


// name: Disease: findings and treatments
// One disease with up to 50 of its findings (HAS_FINDING, the most frequent first) and up to 25
// drugs that treat or palliate it or are contraindicated for it. $disease is an id or a name.
// :param disease => 'DOID:552'
MATCH (d:Disease)
WHERE d.id = $disease OR toLower(d.name) = toLower($disease)
WITH d,
     COLLECT {
       MATCH p = (d)-[r:HAS_FINDING]->(:Finding)
       RETURN p ORDER BY coalesce(r.frequency, -1.0) DESC LIMIT 50
     } AS findings,
     COLLECT {
       MATCH p = (:Drug)-[:TREATS|PALLIATES|CONTRAINDICATED_FOR]->(d)
       RETURN p LIMIT 25
     } AS treatments
RETURN d, findings, treatments;


// name: Related diseases through shared findings
// The 10 diseases that share the most findings with this one (Jaccard overlap of their
// HAS_FINDING sets), drawn with the shared findings between them.
// :param disease => 'DOID:552'
MATCH (d:Disease)
WHERE d.id = $disease OR toLower(d.name) = toLower($disease)
MATCH (d)-[:HAS_FINDING]->(finding:Finding)
WITH d, collect(DISTINCT finding) AS mine
UNWIND mine AS finding
MATCH (finding)<-[:HAS_FINDING]-(other:Disease)
WHERE other <> d
WITH d, mine, other, collect(DISTINCT finding) AS shared
WITH d, other, shared,
     size(COLLECT { MATCH (other)-[:HAS_FINDING]->(theirs:Finding) RETURN DISTINCT theirs }) AS their_count,
     size(mine) AS my_count
WITH d, other, shared, toFloat(size(shared)) / (my_count + their_count - size(shared)) AS jaccard
ORDER BY jaccard DESC, size(shared) DESC
LIMIT 10
UNWIND shared AS finding
MATCH p = (d)-[:HAS_FINDING]->(finding)<-[:HAS_FINDING]-(other)
RETURN p, other.id AS related_id, other.name AS related, size(shared) AS shared_findings,
       round(jaccard, 3) AS jaccard;


// name: Disease: genes and the drugs that target them
// The genes HPO ties to a disease (ASSOCIATED_WITH, from OMIM and Orphanet) and the drugs whose
// efficacy targets include a gene's product (TARGETS, DrugCentral; r.action_type says how).
// $disease is an id or a name.
// :param disease => 'DOID:1485'
MATCH (d:Disease)
WHERE d.id = $disease OR toLower(d.name) = toLower($disease)
MATCH genes = (d)-[:ASSOCIATED_WITH]->(gene:Gene)
OPTIONAL MATCH drugs = (:Drug)-[:TARGETS]->(gene)
RETURN genes, drugs;


// name: Drug: classes and targets
// One drug with its pharmacologic classes (IN_CLASS: FDA established class, mechanism of action
// and chemical structure, MeSH pharmacological action; c.class_type says which) and the genes
// whose products it acts on (TARGETS). $drug is an id or a name.
// :param drug => 'DRUGBANK:DB00945'
MATCH (drug:Drug)
WHERE drug.id = $drug OR toLower(drug.name) = toLower($drug)
WITH drug,
     COLLECT { MATCH p = (drug)-[:IN_CLASS]->(:PharmacologicClass) RETURN p } AS classes,
     COLLECT { MATCH p = (drug)-[:TARGETS]->(:Gene) RETURN p } AS targets
RETURN drug, classes, targets;


// name: Evidence behind a recommendation
// Why a disease is suggested for a patient and what is suggested for it: the disease's findings
// (HAS_FINDING) or excluded findings (EXCLUDES_FINDING) that the patient has, directly or
// through up to three IS_A steps from a more specific finding, and the drugs that treat,
// palliate or are contraindicated for it. Every edge on every path comes with its source,
// version, licence, evidence codes and references.
// :param disease => 'DOID:552'
// :param findings => ['HP:0001945', 'HP:0012735', 'HP:0002094']
MATCH (d:Disease)
WHERE d.id = $disease OR toLower(d.name) = toLower($disease)
WITH d,
     COLLECT {
       MATCH p = (d)-[:HAS_FINDING|EXCLUDES_FINDING]->(:Finding)<-[:IS_A*0..3]-(patient:Finding)
       WHERE patient.id IN $findings
       RETURN p
     } AS evidence,
     COLLECT {
       MATCH p = (:Drug)-[:TREATS|PALLIATES|CONTRAINDICATED_FOR]->(d)
       RETURN p LIMIT 25
     } AS treatments
UNWIND evidence + treatments AS p
RETURN p,
       [r IN relationships(p) | r {type: type(r), .source, .source_version, .license, .evidence, .references}]
         AS provenance;


// name: Edge: sources and licences
// Every statement that joins two concepts, one row per source: the relationship, its direction,
// who says it, in which version, under which licence, with which evidence and references.
// :param from => 'DRUGBANK:DB01060'
// :param to => 'DOID:552'
MATCH (a:Disease|Finding|Drug|Gene|PharmacologicClass {id: $from})-[r]-
      (b:Disease|Finding|Drug|Gene|PharmacologicClass {id: $to})
RETURN a.name AS from, type(r) AS relationship, b.name AS to, startNode(r) = a AS from_is_start,
       r.source AS source, r.source_version AS version, r.license AS license,
       r.evidence AS evidence, r.references AS references
ORDER BY relationship, source;


// name: Sources and licences of the whole graph
// How many relationships of each type each source contributes, under which version and licence.
// Reads every relationship (about 600,000): a few seconds.
MATCH ()-[r]->()
RETURN r.source AS source, r.source_version AS version, r.license AS license, type(r) AS relationship,
       count(*) AS relationships
ORDER BY source, relationship;
