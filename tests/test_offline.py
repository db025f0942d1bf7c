"""Nothing opens a network connection at run time: the loader, the notebooks (executed by the
briefing export) and the PDF export all run under a guard that records any attempt."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from conftest import Build, guarded

LOAD_AND_DERIVE = """
import huaiyin
from huaiyin import derive
for name in huaiyin.list_tables():
    huaiyin.load_table(name)
figures = huaiyin.load_figures()
derive.implied_prior_level("hy2023h1.gdp", "hy2023h1.gdp_growth")
derive.per_unit("hy2023h1.exhibition_visitors", "hy2023h1.exhibitions")
print(len(figures))
"""


def attempts(log: Path) -> str:
    return log.read_text(encoding="utf-8") if log.exists() else ""


FETCH = """
import urllib.request
try:
    urllib.request.urlopen("http://example.com", timeout=2)
except OSError as error:
    print(error)
"""


def test_the_guard_catches_a_connection(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    result = guarded([sys.executable, "-c", FETCH], log)
    assert "network access blocked" in result.stdout
    assert "socket.getaddrinfo ('example.com'" in attempts(log)


def test_the_guard_reaches_into_notebook_kernels(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Control（对照）"),
        nbformat.v4.new_code_cell(FETCH),
    ]
    path = tmp_path / "control.ipynb"
    nbformat.write(notebook, path)
    log = tmp_path / "net.log"
    result = guarded(
        [
            sys.executable,
            "-m",
            "huaiyin",
            "brief",
            "--no-combined",
            "--out",
            str(tmp_path / "pdf"),
            str(path),
        ],
        log,
    )
    assert result.returncode == 0, result.stderr
    assert "ipykernel" in attempts(log) and "example.com" in attempts(log)


def test_loader_and_derived_figures_stay_offline(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    result = guarded([sys.executable, "-c", LOAD_AND_DERIVE], log)
    assert result.returncode == 0, result.stderr
    assert attempts(log) == ""


def test_notebooks_and_briefing_export_stay_offline(briefing_build: Build) -> None:
    """The suite's one real build (shared with the briefing tests) ran under the guard."""
    assert briefing_build.result.returncode == 0, briefing_build.result.stderr
    for lang in ("zh", "en"):
        assert (briefing_build.out / f"huaiyin-briefing.{lang}.pdf").is_file()
    assert briefing_build.network_log == ""
