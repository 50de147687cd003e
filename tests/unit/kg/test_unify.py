"""Merge rules on hand-made concepts: one node per real-world concept, conflicts left apart."""

from cdss.merge_rules import MergeMethod, MergeRule
from cdss.types import Concept, EdgeType, NodeLabel
from kg.assembly import assemble
from ontologies import Link, SourceData, SourceRelease

DO = SourceRelease(name="do", version="1", license="CC0")
HPO = SourceRelease(name="hpo", version="2", license="HPO")
SYMP = SourceRelease(name="symp", version="3", license="CC0")
PREFIXES = {NodeLabel.DISEASE: ("DOID", "OMIM", "ORPHA"), NodeLabel.FINDING: ("HP", "SYMP")}
DO_TO_HPO = MergeRule(
    label=NodeLabel.DISEASE,
    source="do",
    target="hpo",
    method=MergeMethod.XREF_IS_ID,
    prefixes=("OMIM", "ORPHA"),
    group_as_is_a=True,
)
SYMP_BY_XREF = MergeRule(
    label=NodeLabel.FINDING, source="symp", target="hpo", method=MergeMethod.SHARED_XREF, prefixes=("UMLS",)
)
SYMP_BY_NAME = MergeRule(label=NodeLabel.FINDING, source="symp", target="hpo", method=MergeMethod.SAME_NAME)


def d(i, name="D", **kw):
    return Concept(id=i, label=NodeLabel.DISEASE, name=name, sources=(i.split(":")[0].lower(),), **kw)


def f(i, name, **kw):
    return Concept(id=i, label=NodeLabel.FINDING, name=name, **kw)


def build(do_concepts, hpo_concepts, rules=(DO_TO_HPO,), links=()):
    return assemble(
        [
            SourceData(release=HPO, concepts=hpo_concepts, links=list(links)),
            SourceData(release=DO, concepts=do_concepts),
        ],
        rules=rules,
        canonical_prefixes=PREFIXES,
    )


def test_a_do_term_and_its_omim_and_orpha_entries_become_one_node():
    links = [
        Link.between(EdgeType.HAS_FINDING, "OMIM:1", "HP:1", HPO.provenance()),
        Link.between(EdgeType.HAS_FINDING, "ORPHA:9", "HP:1", HPO.provenance()),
    ]
    graph = build(
        [d("DOID:1", "cystic fibrosis", xrefs=("OMIM:1", "ORPHA:9", "UMLS:C1"))],
        [d("OMIM:1", "Cystic fibrosis"), d("ORPHA:9", "CF"), f("HP:1", "Cough")],
        links=links,
    )
    nodes = {n.id: n for n in graph.nodes}
    assert set(nodes) == {"DOID:1", "HP:1"}
    merged = nodes["DOID:1"]
    assert merged.name == "cystic fibrosis"
    assert {"OMIM:1", "ORPHA:9", "UMLS:C1"} <= set(merged.xrefs)
    assert merged.attributes["merged_ids"] == ["OMIM:1", "ORPHA:9"]
    assert any("OMIM:1 by cross-reference" in r for r in merged.attributes["merge_reasons"])
    # Both annotations now describe the same disease: one edge, not two.
    assert [(e.start, e.end) for e in graph.edges] == [("DOID:1", "HP:1")]
    report = {s.name: s.merge for s in graph.sources}
    assert report["do"].routes == {DO_TO_HPO.route: 2}
    assert report["do"].merged == 1 and report["hpo"].merged == 2


def test_two_do_terms_claiming_one_omim_id_is_a_conflict_and_nothing_merges():
    graph = build(
        [d("DOID:1", "first", xrefs=("OMIM:5",)), d("DOID:2", "second", xrefs=("OMIM:5",))],
        [d("OMIM:5", "Contested")],
    )
    assert sorted(n.id for n in graph.nodes) == ["DOID:1", "DOID:2", "OMIM:5"]
    stats = {s.name: s.merge for s in graph.sources}["do"]
    assert stats.conflicting == 2
    assert stats.merged == 0
    assert stats.conflict_examples == ["DOID:1, DOID:2 all match OMIM:5"]


def test_a_do_term_citing_several_omim_entries_groups_them():
    graph = build(
        [d("DOID:7", "syndrome", xrefs=("OMIM:71", "OMIM:72"))], [d("OMIM:71", "type 1"), d("OMIM:72", "type 2")]
    )
    assert sorted(n.id for n in graph.nodes) == ["DOID:7", "OMIM:71", "OMIM:72"]
    assert [(e.type, e.start, e.end, e.provenance.source) for e in graph.edges] == [
        (EdgeType.IS_A, "OMIM:71", "DOID:7", "do"),
        (EdgeType.IS_A, "OMIM:72", "DOID:7", "do"),
    ]
    assert graph.edges[0].attributes["rule"] == DO_TO_HPO.route
    assert {s.name: s.merge for s in graph.sources}["do"].grouped == 1


def test_findings_merge_by_shared_xref_then_by_name_with_name_matches_winning():
    hpo = [
        f("HP:1", "Fever", synonyms=("Pyrexia",)),
        f("HP:2", "Seizure", xrefs=("UMLS:C2",)),
        f("HP:3", "Fatigue", synonyms=("Tiredness",)),
    ]
    symp = [
        f("SYMP:1", "fever"),
        f("SYMP:2", "fits", xrefs=("UMLS:C2",)),
        f("SYMP:3", "fatigue"),
        f("SYMP:4", "tiredness"),
        f("SYMP:5", "something else"),
    ]
    graph = assemble(
        [SourceData(release=HPO, concepts=hpo), SourceData(release=SYMP, concepts=symp)],
        rules=(SYMP_BY_XREF, SYMP_BY_NAME),
        canonical_prefixes=PREFIXES,
    )
    ids = sorted(n.id for n in graph.nodes)
    # SYMP:3 (name = name) beats SYMP:4 (name = synonym) for HP:3, so SYMP:4 stays apart, not in conflict.
    assert ids == ["HP:1", "HP:2", "HP:3", "SYMP:4", "SYMP:5"]
    stats = {s.name: s.merge for s in graph.sources}["symp"]
    assert stats.routes == {SYMP_BY_XREF.route: 1, SYMP_BY_NAME.route: 2}
    assert (stats.unmapped, stats.conflicting) == (2, 0)
    assert "SYMP:1" in {n.id: n for n in graph.nodes}["HP:1"].xrefs


def test_links_to_merged_away_ids_follow_their_node():
    link = Link.between(EdgeType.HAS_FINDING, "DOID:1", "SYMP:1", DO.provenance())
    graph = assemble(
        [
            SourceData(release=HPO, concepts=[f("HP:1", "Fever")]),
            SourceData(release=SYMP, concepts=[f("SYMP:1", "fever")]),
            SourceData(release=DO, concepts=[d("DOID:1")], links=[link]),
        ],
        rules=(SYMP_BY_NAME,),
        canonical_prefixes=PREFIXES,
    )
    assert [(e.start, e.end) for e in graph.edges] == [("DOID:1", "HP:1")]


def test_claims_are_on_nodes_so_two_concepts_cannot_each_take_half_of_one():
    # OMIM:1 and ORPHA:1 are already one node; X and Y each match one of its ids.
    first = MergeRule(
        label=NodeLabel.DISEASE, source="do", target="hpo", method=MergeMethod.XREF_IS_ID, prefixes=("OMIM", "ORPHA")
    )
    second = MergeRule(
        label=NodeLabel.DISEASE, source="x", target="hpo", method=MergeMethod.XREF_IS_ID, prefixes=("OMIM", "ORPHA")
    )
    x_release = SourceRelease(name="x", version="1", license="CC0")
    graph = assemble(
        [
            SourceData(release=HPO, concepts=[d("OMIM:1"), d("ORPHA:1")]),
            SourceData(release=DO, concepts=[d("DOID:1", xrefs=("OMIM:1", "ORPHA:1"))]),
            SourceData(
                release=x_release, concepts=[d("DOID:8", "x", xrefs=("OMIM:1",)), d("DOID:9", "y", xrefs=("ORPHA:1",))]
            ),
        ],
        rules=(first, second),
        canonical_prefixes=PREFIXES,
    )
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["DOID:1"].attributes["merged_ids"] == ["OMIM:1", "ORPHA:1"]
    assert {"DOID:8", "DOID:9"} <= set(nodes)
    assert {s.name: s.merge for s in graph.sources}["x"].conflicting == 2


def test_a_weaker_match_the_claimant_never_uses_does_not_block_another():
    hpo = [f("HP:1", "Fever"), f("HP:2", "Pyrexia")]
    symp = [f("SYMP:1", "fever", synonyms=("pyrexia",)), f("SYMP:2", "high temperature", synonyms=("pyrexia",))]
    graph = assemble(
        [SourceData(release=HPO, concepts=hpo), SourceData(release=SYMP, concepts=symp)],
        rules=(SYMP_BY_NAME,),
        canonical_prefixes=PREFIXES,
    )
    assert sorted(n.id for n in graph.nodes) == ["HP:1", "HP:2"]
    stats = {s.name: s.merge for s in graph.sources}["symp"]
    assert (stats.conflicting, stats.routes) == (0, {SYMP_BY_NAME.route: 2})


def test_a_grouping_term_counts_once():
    graph = build(
        [d("DOID:7", "syndrome", xrefs=("OMIM:71", "OMIM:72", "ORPHA:1", "ORPHA:2"))],
        [d("OMIM:71"), d("OMIM:72"), d("ORPHA:1"), d("ORPHA:2")],
    )
    assert {s.name: s.merge for s in graph.sources}["do"].grouped == 1
    assert len([e for e in graph.edges if e.type == EdgeType.IS_A]) == 4
