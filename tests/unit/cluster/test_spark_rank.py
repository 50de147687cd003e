"""`cdss rank --engine spark` in local[2] against the single-process command, on the ranking graph."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

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


def cdss(*args: str, env: dict) -> subprocess.CompletedProcess:
    """The command in a fresh process, as a user runs it (no state left by other tests in this one)."""
    command = [sys.executable, "-c", "from cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_spark_writes_the_lines_the_single_process_command_writes(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CDSS_")},
        "CDSS_STORE": str(write_ranking_graph(tmp_path / "graph.sqlite")),
        "CDSS_DATA_DIR": str(tmp_path / "data"),
        "CDSS_PROGRESS": "0",
    }
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(CASES) + "\n", encoding="utf-8")
    rank = ["rank", "--cases", str(cases), "--top", "3"]
    one = cdss(*rank, "--out", str(tmp_path / "one.jsonl"), env=env)
    assert one.returncode == 0, one.stderr
    spark = [*rank, "--engine", "spark", "--master", "local[2]"]
    other = cdss(*spark, "--partitions", "3", "--out", str(tmp_path / "spark.jsonl"), env=env)
    assert other.returncode == 0, other.stderr
    expected = (tmp_path / "one.jsonl").read_text(encoding="utf-8")
    assert (tmp_path / "spark.jsonl").read_text(encoding="utf-8") == expected
    assert "ranked 12 cases, 2 refused" in other.stderr
    table = cdss(*spark, "--out", str(tmp_path / "answers.parquet"), env=env)
    assert table.returncode == 0, table.stderr
    assert "ranked 12 cases, 2 refused" in table.stderr
    assert (tmp_path / "answers.parquet" / "_SUCCESS").exists()
    assert list((tmp_path / "answers.parquet").glob("part-*.parquet"))
