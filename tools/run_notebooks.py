"""Run the notebooks: store fresh outputs, or prove that nbval catches a wrong figure.

    python tools/run_notebooks.py execute [NOTEBOOK ...]   # pair, re-execute, store outputs
    python tools/run_notebooks.py contents                 # rewrite notebooks/README.md
    python tools/run_notebooks.py mutate --all             # change every figure in turn
    python tools/run_notebooks.py mutate --sample 3        # a fixed sample of figures

Each English notebook in ``notebooks/`` has a Chinese twin in ``notebooks/zh/``: the same
code cells, and Chinese text in place of each English Markdown cell, under the same cell id.
``execute`` first copies the code (and the cells' tags) from the English notebook into its
twin, so that the analysis is written once; the twin's only code of its own is the line that
sets the language. ``execute`` is deterministic: running it twice gives byte-identical files
(fixed hash seed, no timing metadata, no PNG "Software" stamp, fixed notebook metadata).
``mutate`` copies the data, bumps one figure's last printed digit (in ``value``, and in
``printed`` and ``citation`` so that the row stays valid: a mutant the loader refuses would
fail every notebook and prove nothing), runs nbval on every notebook whose outputs show that
figure, and reports how many mutants nbval kills; it exits 1 unless it kills them all. One
nbval run checks every mutant, beside a control on unchanged data that must pass.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import nbformat
from nbclient import NotebookClient

from huaiyin import tables
from huaiyin.datapackage import read_datapackage
from huaiyin.errors import DataError
from huaiyin.fonts import CHART_TEXT_ENV
from huaiyin.printed import reprint

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHINESE = NOTEBOOKS / "zh"
# The one line of code a Chinese twin has that its English notebook does not: it goes before
# this line of the English notebook's setup cell.
LANGUAGE_LINE = 'huaiyin.set_language("zh")\n'
SETUP_LINE = "font = charts.set_theme()"
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# nbval's words for a cell whose outputs differ from the stored ones, or that raised.
CAUGHT = ("Cell outputs differ", "Cell execution caused an exception")
# Run beside the mutants on unchanged data: a short notebook that shows figures.
CONTROL = CHINESE / "05-governance.ipynb"
CONTROL_COPY = f"control/{CONTROL.relative_to(ROOT).as_posix()}"
KERNEL_ENV = {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "0"}
# What would change the outputs: MPLBACKEND=Agg drops every figure, and HUAIYIN_CHART_TEXT
# (for the briefing's kernels) would store chart text as text instead of outlines.
UNSET_FOR_KERNELS = ("MPLBACKEND", CHART_TEXT_ENV)


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The notebooks in reading order, English then Chinese, or the ones named."""
    if names:
        return [Path(n).resolve() for n in names]
    return english_paths() + [CHINESE / p.name for p in english_paths()]


def english_paths() -> list[Path]:
    """The themed notebooks in reading order, then ``explore.ipynb``, which is for readers
    of the notebooks rather than of the briefings."""
    return [*sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")), NOTEBOOKS / "explore.ipynb"]


def twin_code(source: str) -> str:
    """A code cell of the English notebook as its Chinese twin has it."""
    if SETUP_LINE in source:
        return source.replace(SETUP_LINE, LANGUAGE_LINE + SETUP_LINE, 1)
    return source


def pair(english: Path) -> Path:
    """Write the Chinese twin of ``english``: its code and tags, with the twin's own text.

    Stops with a message naming the cell if a Markdown cell has no Chinese text yet.
    """
    twin = CHINESE / english.name
    source = nbformat.read(english, as_version=4)
    chinese = nbformat.read(twin, as_version=4)
    texts = {c.id: c for c in chinese.cells if c.cell_type == "markdown"}
    cells = []
    for cell in source.cells:
        if cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(twin_code(cell.source), id=cell.id))
        elif cell.id in texts:
            cells.append(nbformat.v4.new_markdown_cell(texts[cell.id].source, id=cell.id))
        else:
            raise SystemExit(f"{twin}: no Chinese text for {english.name}'s cell {cell.id!r}")
        if "tags" in cell.metadata:
            cells[-1].metadata["tags"] = list(cell.metadata.tags)
    chinese.cells = cells
    nbformat.write(chinese, twin)
    return twin


def execute(path: Path) -> None:
    """Re-execute one notebook in place, leaving only what its outputs depend on."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    os.environ.update(KERNEL_ENV)
    for name in UNSET_FOR_KERNELS:
        os.environ.pop(name, None)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        shutdown_kernel="immediate",  # as nbval does; see huaiyin.briefing._execute
    )
    client.execute()
    # A twin says it is the Chinese edition: the briefing names its PDFs after that. A copy
    # regenerated outside notebooks/zh/ keeps what it said.
    said = nb.metadata.get("huaiyin", {}).get("language")
    chinese = path.parent == CHINESE or said == "zh"
    nb.metadata = {**METADATA, "huaiyin": {"language": "zh"}} if chinese else METADATA
    nbformat.write(nb, path)


def contents() -> str:
    """notebooks/README.md: each notebook's title and question, read from its first cell."""
    lines = [
        "# Notebooks",
        "",
        "Read them in order, in English here or in Chinese in [`zh/`](zh/) (中文版). Each gets",
        "its data only through `huaiyin` and is re-executed by the test suite (nbval); a Chinese",
        "notebook runs the same code as its English twin. Generated by",
        "`python tools/run_notebooks.py contents`.",
    ]
    for heading, paths, mark in (
        ("English", english_paths(), r"\*\*Question:\*\*"),
        ("中文", [CHINESE / p.name for p in english_paths()], r"\*\*问题\*\*："),
    ):
        lines += ["", f"## {heading}", "", "| notebook | title | question |", "|---|---|---|"]
        for path in paths:
            first = nbformat.read(path, as_version=4).cells[0].source
            title = first.splitlines()[0].removeprefix("# ").strip()
            question = re.search(rf"{mark}\s*(.+?)(?:\n\n|$)", first, flags=re.DOTALL)
            text = " ".join(question.group(1).split()) if question else ""
            link = path.relative_to(NOTEBOOKS).as_posix()
            lines.append(f"| [`{link}`]({link}) | {title} | {text} |")
    return "\n".join(lines) + "\n"


def displayed_text(path: Path) -> str:
    """All text a notebook displays (plain text, HTML and streams), for finding figure ids."""
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for mime in ("text/plain", "text/html"):
                data = output.get("data", {}).get(mime, "")
                parts.append(data if isinstance(data, str) else "".join(data))
    return "\n".join(parts)


def notebooks_showing(figure_id: str, shown: dict[Path, str]) -> list[Path]:
    """The notebooks whose displayed text (``displayed_text`` by path) shows ``figure_id``."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(figure_id)}(?![\w])")
    return [path for path, text in shown.items() if pattern.search(text)]


@dataclass
class Mutant:
    figure_id: str
    table: str
    before: str
    after: str
    notebooks: list[str]
    failed: list[str]

    @property
    def killed(self) -> bool:
        return bool(self.notebooks) and set(self.failed) == set(self.notebooks)


def figure_rows() -> list[tuple[str, str, str]]:
    """(table, id, value as written) for every figure, in data order."""
    package = read_datapackage()
    rows = []
    for table in package.figure_tables():
        with package.resources[table].path.open(encoding="utf-8", newline="") as fh:
            rows += [(table, r["id"], r["value"]) for r in csv.DictReader(fh)]
    return rows


def bump_last_digit(value: str) -> str:
    """365.5 -> 365.6, 3140 -> 3141: the smallest change the printed precision can show."""
    step = Decimal(1).scaleb(Decimal(value).as_tuple().exponent)
    return str(Decimal(value) + step)


def write_mutant_data(table: str, figure_id: str, after: str, data: Path) -> None:
    """A copy of the data in ``data`` with one figure changed to ``after``, still valid."""
    shutil.copytree(ROOT / "data", data)
    path = data / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    (row,) = [r for r in rows if r[0] == figure_id]
    printed = row[header.index("printed")]
    changed = reprint(printed, after)
    row[header.index("value")] = after
    row[header.index("printed")] = changed
    citation = header.index("citation")
    row[citation] = row[citation].replace(printed, changed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    try:
        tables._all_figures(read_datapackage(data))  # validates every table
    except DataError as err:
        raise SystemExit(
            f"mutant of {figure_id} is not valid data, so proves nothing: {err}"
        ) from None


def run_mutants(rows: list[tuple[str, str, str]], workers: int = 2) -> list[Mutant]:
    """Change each figure of ``rows`` in a copy of the data, and run nbval once over every
    notebook that shows one of them, on ``workers`` cores.

    Each mutant has a folder of its own (its data, and copies of the notebooks showing its
    figure) with a kernelspec that points ``HUAIYIN_DATA`` at that data; each copy names its
    mutant's kernel. So one pytest run, started once, checks every mutant. A control, one
    notebook on unchanged data, runs with them: it must pass, or a kill would prove nothing.
    """
    # Read the stored outputs once: every mutant looks up which notebooks show its figure.
    shown = {path: displayed_text(path) for path in notebook_paths()}
    with tempfile.TemporaryDirectory(prefix="huaiyin-mutants-") as tmp:
        # Resolved: pytest names notebooks relative to the real folder, not a symlink to it.
        scratch = Path(tmp).resolve()
        mutants = []
        copies = _stage(scratch, "control", [CONTROL])
        shutil.copytree(ROOT / "data", scratch / "control" / "data")
        for number, (table, figure_id, value) in enumerate(rows):
            after = bump_last_digit(value)
            write_mutant_data(table, figure_id, after, scratch / f"mutant-{number}" / "data")
            notebooks = notebooks_showing(figure_id, shown)
            copies += _stage(scratch, f"mutant-{number}", notebooks)
            names = [str(p.relative_to(ROOT)) for p in notebooks]
            mutants.append(Mutant(figure_id, table, value, after, names, []))
        cells = nbval_cells(scratch, copies, workers)
    # Every staged notebook reported its cells (see nbval_cells); the control must pass.
    caught = [
        name
        for (path, name), outcome in cells.items()
        if path == CONTROL_COPY and outcome != "passed"
    ]
    if caught:
        raise SystemExit(
            f"the control ({CONTROL_COPY} on unchanged data, run as the mutants are) did not "
            f"pass ({', '.join(caught)}): kills would prove nothing"
        )
    for number, mutant in enumerate(mutants):
        prefix = f"mutant-{number}/"
        mutant.failed = sorted(
            {
                path.removeprefix(prefix)
                for (path, _), outcome in cells.items()
                if path.startswith(prefix) and outcome == "caught"
            }
        )
    return mutants


def _stage(scratch: Path, name: str, notebooks: list[Path]) -> list[Path]:
    """Copies of ``notebooks`` in ``scratch/name``, run by a kernel of their own that reads
    the data in ``scratch/name/data``."""
    kernel = f"huaiyin-{name}"
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": kernel,
        "language": "python",
        "env": {"HUAIYIN_DATA": str(scratch / name / "data")},
    }
    (scratch / "kernels" / kernel).mkdir(parents=True)
    (scratch / "kernels" / kernel / "kernel.json").write_text(json.dumps(spec))
    copies = []
    for path in notebooks:
        copy = scratch / name / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        nb = nbformat.read(path, as_version=4)
        nb.metadata.kernelspec.name = kernel
        nbformat.write(nb, copy)
        copies.append(copy)
    return copies


def nbval_cells(scratch: Path, notebooks: list[Path], workers: int) -> dict[tuple[str, str], str]:
    """Run nbval on ``notebooks``: the outcome of each cell, "passed" or "caught" (its
    outputs differ from the stored ones, or it raised), keyed by the notebook (relative to
    ``scratch``) and the cell's name.

    Stops with a message if pytest could not run, if a notebook reported no cells, or if a
    cell could not be checked (a timeout, a kernel that died or did not start). The
    project's pytest set-up (conftest.py) does not reach notebooks outside the project, so
    its sanitize file and kernel environment are given here; no other configuration (an
    ini file, a conftest.py in a folder above, PYTEST_ADDOPTS) is read.
    """
    env = {**os.environ, **KERNEL_ENV, "JUPYTER_PATH": str(scratch)}
    for name in (*UNSET_FOR_KERNELS, "PYTEST_ADDOPTS"):
        env.pop(name, None)
    report = scratch / "nbval.xml"
    parallel = ["-n", str(workers), "--dist", "loadfile"] if workers > 1 else []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-c",
            os.devnull,
            "--rootdir",
            str(scratch),
            "--noconftest",
            "-p",
            "no:cacheprovider",
            "--color=no",
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",  # names each cell's notebook
            "--nbval",
            "--nbval-sanitize-with",
            str(NOTEBOOKS / "sanitize.cfg"),
            *parallel,
            *map(str, notebooks),
        ],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1) or not report.exists():
        output = (result.stdout + result.stderr)[-3000:]
        raise SystemExit(f"nbval could not run (exit {result.returncode}):\n{output}")
    cells = {}
    for case in ElementTree.parse(report).iter("testcase"):
        outcome = "passed"
        for child in case:
            message = child.get("message") or ""
            if child.tag == "failure" and any(m in message for m in CAUGHT):
                outcome = "caught"
            elif child.tag in {"failure", "error", "skipped"}:
                outcome = f"{child.tag}: {' '.join(message.split())[:300]}"
        cells[(case.get("file", ""), case.get("name", ""))] = outcome
    silent = {str(n.relative_to(scratch)) for n in notebooks} - {path for path, _ in cells}
    if silent:
        raise SystemExit(f"nbval reported no cells of {', '.join(sorted(silent))}")
    unclear = [
        f"{path} {name}: {o}" for (path, name), o in cells.items() if o not in {"passed", "caught"}
    ]
    if unclear:  # a timeout, a kernel that died or never started: nothing was shown either way
        raise SystemExit("nbval could not check every cell:\n" + "\n".join(unclear[:5]))
    return cells


def sample(rows: list[tuple[str, str, str]], size: int) -> list[tuple[str, str, str]]:
    """A fixed, spread-out sample: every k-th figure, so each run tests the same ones."""
    step = max(1, len(rows) // size)
    return rows[::step][:size]


def report(mutants: list[Mutant]) -> str:
    lines = [f"{'figure':45} {'change':>20}  {'notebooks':>9}  {'failed':>6}  result"]
    for m in mutants:
        lines.append(
            f"{m.figure_id:45} {m.before + ' -> ' + m.after:>20}  {len(m.notebooks):>9}  "
            f"{len(m.failed):>6}  {'killed' if m.killed else 'SURVIVED'}"
        )
    killed = sum(m.killed for m in mutants)
    lines.append(f"kill rate: {killed}/{len(mutants)} = {100 * killed / len(mutants):.1f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("execute", help="re-execute notebooks and store their outputs")
    run.add_argument("notebooks", nargs="*")
    commands.add_parser("contents", help="rewrite notebooks/README.md from the notebooks")
    mut = commands.add_parser("mutate", help="change figures and check that nbval fails")
    group = mut.add_mutually_exclusive_group(required=True)
    group.add_argument("--all", action="store_true")
    group.add_argument("--sample", type=int, metavar="N")
    mut.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.command == "contents":
        (NOTEBOOKS / "README.md").write_text(contents(), encoding="utf-8")
        return 0
    if args.command == "execute":
        paths = notebook_paths(args.notebooks)
        # An English notebook's twin is paired with it and executed with it.
        twins = [pair(p) for p in paths if p.parent == NOTEBOOKS]
        paths += [t for t in twins if t not in paths]

        # Two kernels at a time: one per core.
        def run(path: Path) -> None:
            execute(path)
            print(f"executed {path.relative_to(ROOT)}", flush=True)

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(run, paths))
        return 0
    rows = figure_rows() if args.all else sample(figure_rows(), args.sample)
    started = time.perf_counter()
    mutants = run_mutants(rows)
    print(report(mutants))
    print(f"checked in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([m.__dict__ for m in mutants], indent=1))
    return 0 if all(m.killed for m in mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
