"""The package layering the README describes holds: run `python tools/package_imports.py` to see the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_no_package_imports_a_layer_above_it_and_there_is_no_cycle():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package_imports.py"), "--root", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "| `cdss` | - |" in result.stdout, "the shared leaf imports nothing of ours"
    assert "every rule holds" in result.stdout


def test_a_broken_rule_is_reported(tmp_path):
    for package, line in (
        ("cdss", "import ranking\n"),
        ("ranking", "from nlp import x\nimport cdss.errors\n"),
        ("nlp", ""),
    ):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(line)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package_imports.py"), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "cdss imports ranking" in result.stdout and "ranking imports nlp" in result.stdout
    assert "import cycle among cdss, ranking" in result.stdout


def test_no_module_or_function_is_too_long_without_a_reason():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "code_size.py"), "--root", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
