"""`cdss rank --engine spark` in local[2] against the single-process command, on the ranking graph."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from cli import cli
from tests.ranking_graph import write_ranking_graph

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cdss[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not on the PATH; Spark needs it", allow_module_level=True)

CASES = [
    json.dumps({"id": "a", "present": ["HP:0007359", "HP:0000365"]}),
    "{not json",
    json.dumps({"id": "b", "present": ["HP:0001945"], "absent": ["HP:0001945"]}),
    "",
    json.dumps({"id": "c", "present": ["HP:0002090"]}),
    json.dumps({"id": "d", "text": "Fever and cough for three days. No seizures."}),
    *(json.dumps({"id": f"e{n}", "present": ["HP:0001945", "HP:0012735"][: 1 + n % 2]}) for n in range(9)),
]


def test_spark_writes_the_lines_the_single_process_command_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(write_ranking_graph(tmp_path / "graph.sqlite")))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDSS_PROGRESS", "0")
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(CASES) + "\n", encoding="utf-8")
    runner = CliRunner()
    one = runner.invoke(cli, ["rank", "--cases", str(cases), "--top", "3", "--out", str(tmp_path / "one.jsonl")])
    assert one.exit_code == 0, one.output
    spark = ["rank", "--cases", str(cases), "--top", "3", "--engine", "spark", "--master", "local[2]"]
    other = runner.invoke(cli, [*spark, "--partitions", "3", "--out", str(tmp_path / "spark.jsonl")])
    assert other.exit_code == 0, other.output
    expected = (tmp_path / "one.jsonl").read_text(encoding="utf-8")
    assert (tmp_path / "spark.jsonl").read_text(encoding="utf-8") == expected
    assert "ranked 12 cases, 2 refused" in other.output
    table = runner.invoke(cli, [*spark, "--out", str(tmp_path / "answers.parquet")])
    assert table.exit_code == 0, table.output
    assert "ranked 12 cases, 2 refused" in table.output
    assert (tmp_path / "answers.parquet" / "_SUCCESS").exists()
    assert list((tmp_path / "answers.parquet").glob("part-*.parquet"))
