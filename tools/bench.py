"""Benchmarks, printed as one table: ratios side by side from the same run.

    python tools/bench.py [--repeat N]

Each measurement runs in a fresh subprocess, the pairs being compared are interleaved, and
the median of N runs is reported, so that a noisy shared machine disturbs both sides alike.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from huaiyin import load_table
from huaiyin.fonts import CHART_TEXT_ENV

ROOT = Path(__file__).resolve().parents[1]
# What the build executes: the themed notebooks of both editions, Chinese and English.
NOTEBOOKS = [
    str(p)
    for folder in ("notebooks/zh", "notebooks")
    for p in sorted((ROOT / folder).glob("[0-9][0-9]-*.ipynb"))
]
PYTHON = sys.executable
THEMES = ("economy", "projects", "tourism", "talent", "governance")

IMPORT = "import huaiyin"
LOAD_VALIDATED = "import huaiyin\nfor t in huaiyin.list_tables(): huaiyin.load_table(t)"
LOAD_RAW = (
    "import pandas as pd, huaiyin.datapackage as d\n"
    "for r in d.read_datapackage().resources.values(): pd.read_csv(r.path)"
)
EXECUTE_BARE = (
    "import sys, nbformat\nfrom nbclient import NotebookClient\n"
    "for p in sys.argv[1:]:\n"
    "    nb = nbformat.read(p, as_version=4)\n"
    "    NotebookClient(nb, kernel_name='python3', resources={'metadata': {'path': 'notebooks'}},"
    " shutdown_kernel='immediate').execute()\n"
)
NBVAL = [
    PYTHON,
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "-o",
    "addopts=",
    "--nbval",
    "--nbval-current-env",
    *NOTEBOOKS,
]


def seconds(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def in_process(code: str, setup: str = "") -> list[str]:
    """A command timing ``code`` inside a fresh interpreter, excluding interpreter start-up."""
    timer = (
        f"import time\n{setup}\n_start = time.perf_counter()\nexec({code!r})\n"
        "print(time.perf_counter() - _start)"
    )
    return [PYTHON, "-c", timer]


def timed_in_process(code: str, setup: str = "", env: dict[str, str] | None = None) -> float:
    result = subprocess.run(
        in_process(code, setup), cwd=ROOT, check=True, capture_output=True, text=True, env=env
    )
    return float(result.stdout.strip().splitlines()[-1])


# The tables a figure load reads: the figure tables and the two they refer to.
LOADED = ("sources", "units", *THEMES)
LOAD_AT_SCALE = f"""
import huaiyin
for name in {LOADED!r}:
    huaiyin.load_table(name)
"""
READ_AT_SCALE = f"""
import pandas as pd, huaiyin.datapackage as d
package = d.read_datapackage()
for name in {LOADED!r}:
    pd.read_csv(package.resources[name].path)
"""
MEMORY_AT_SCALE = """
import tracemalloc, huaiyin
tracemalloc.start()
figures = huaiyin.load_figures()
peak = tracemalloc.get_traced_memory()[1]
print(peak / figures.memory_usage(deep=True).sum())
"""
TEST_COMMAND = [PYTHON, "tasks.py", "test", "-q", "-p", "no:cacheprovider"]
NBVAL_ALONE = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks/"]

SCALE_CODE = """
import huaiyin
from huaiyin.derive import implied_prior_level, ratio
figures = huaiyin.load_figures()
for source in figures["source_id"].unique():
    implied_prior_level(f"{source}.gdp", f"{source}.gdp_growth")
    ratio(f"{source}.budget_revenue", f"{source}.gdp")
"""


def synthetic_reports(folder: Path, reports: int) -> Path:
    """A copy of the data holding ``reports`` copies of the report, each under its own id."""
    data = folder / f"reports-{reports}"
    shutil.copytree(ROOT / "data", data)
    for path in [data / "sources.csv", *(data / f"{t}.csv" for t in THEMES)]:
        with path.open(encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        id_col = header.index("id")
        source_col = header.index("source_id") if "source_id" in header else id_col
        copies = []
        for k in range(reports):
            for row in rows:
                copy = list(row)
                copy[source_col] = f"syn{k:04d}"
                if id_col != source_col:
                    copy[id_col] = copy[id_col].replace("hy2023h1.", f"syn{k:04d}.", 1)
                copies.append(copy)
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *copies])
    return data


def median_pair(a: Callable[[], float], b: Callable[[], float], repeat: int) -> tuple[float, float]:
    runs_a, runs_b = [], []
    for _ in range(repeat):
        runs_a.append(a())
        runs_b.append(b())
    return statistics.median(runs_a), statistics.median(runs_b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-test-command",
        dest="test_command",
        action="store_false",
        help="skip timing the whole test command (a minute or more)",
    )
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str]] = []

    imports = statistics.median(timed_in_process(IMPORT) for _ in range(max(5, args.repeat)))
    rows.append(("import huaiyin", f"{imports * 1000:.0f} ms", ""))

    validated, raw = median_pair(
        lambda: timed_in_process(LOAD_VALIDATED, "import pandas, huaiyin"),
        lambda: timed_in_process(LOAD_RAW, "import pandas, huaiyin.datapackage"),
        max(5, args.repeat),
    )
    rows.append(
        (
            "load all tables, validated / raw pandas.read_csv",
            f"{validated * 1000:.0f} ms / {raw * 1000:.0f} ms",
            f"{validated / raw:.2f}x",
        )
    )

    # nbval's kernels draw chart text as outlines, whatever the shell says (see conftest.py).
    as_nbval = {k: v for k, v in os.environ.items() if k != CHART_TEXT_ENV}
    nbval, bare = median_pair(
        lambda: seconds(NBVAL),
        lambda: seconds([PYTHON, "-c", EXECUTE_BARE, *NOTEBOOKS], as_nbval),
        args.repeat,
    )
    rows.append(
        (
            f"{len(NOTEBOOKS)} notebooks: nbval / bare nbclient execution",
            f"{nbval:.1f} s / {bare:.1f} s",
            f"{nbval / bare:.2f}x (limit 1.30x)",
        )
    )

    # The build's kernels draw chart text as text (see huaiyin.fonts.CHART_TEXT_ENV), and
    # nbval's as outlines: each is compared with bare execution doing the same.
    as_built = {**os.environ, CHART_TEXT_ENV: "text"}
    with tempfile.TemporaryDirectory() as out:
        brief, bare_as_built = median_pair(
            lambda: seconds([PYTHON, "-m", "huaiyin", "brief", "--out", out, *NOTEBOOKS]),
            lambda: seconds([PYTHON, "-c", EXECUTE_BARE, *NOTEBOOKS], as_built),
            args.repeat,
        )
    briefings = len(NOTEBOOKS) + 2
    rows.append(
        (
            f"briefings: {briefings} PDFs (each notebook + combined, zh and en), total",
            f"{brief:.1f} s",
            "",
        )
    )
    rows.append(("briefings: seconds per PDF", f"{brief / briefings:.1f} s", ""))
    rows.append(
        (
            "briefings: build / serial bare notebook execution, chart text as text",
            f"{brief:.1f} s / {bare_as_built:.1f} s",
            f"{brief / bare_as_built:.2f}x (goal 1.00x)",
        )
    )
    if args.test_command:
        command, alone = median_pair(lambda: seconds(TEST_COMMAND), lambda: seconds(NBVAL_ALONE), 1)
        rows.append(
            (
                "test command / nbval alone (pytest notebooks/), one run each",
                f"{command:.1f} s / {alone:.1f} s",
                f"{command / alone:.2f}x (goal 4.00x)",
            )
        )

    with tempfile.TemporaryDirectory() as scratch:
        previous = None
        per_report = sum(len(load_table(t)) for t in THEMES)
        for reports in (1, 10, 100, 1000):
            data = synthetic_reports(Path(scratch), reports)
            # Measure the steady state: the cache trusts file stats only once they are 2 s
            # old (see huaiyin.tables); until then each call hashes the data again.
            time.sleep(2.1)
            result = subprocess.run(
                in_process(SCALE_CODE, "import pandas, huaiyin"),
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "HUAIYIN_DATA": str(data)},
            )
            took = float(result.stdout.strip().splitlines()[-1])
            growth = f"{took / previous:.1f}x time for 10x reports" if previous else ""
            env = {**os.environ, "HUAIYIN_DATA": str(data)}
            validated, raw = median_pair(
                lambda env=env: timed_in_process(LOAD_AT_SCALE, "import pandas, huaiyin", env),
                lambda env=env: timed_in_process(READ_AT_SCALE, "import pandas, huaiyin", env),
                max(3, args.repeat),
            )
            rows.append(
                (
                    f"load at {reports} reports: validated / raw pandas.read_csv",
                    f"{validated * 1000:.0f} ms / {raw * 1000:.0f} ms",
                    f"{validated / raw:.2f}x (goal 2.00x)",
                )
            )
            memory = subprocess.run(
                [PYTHON, "-c", MEMORY_AT_SCALE],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(
                (
                    f"load at {reports} reports: peak memory / loaded frame",
                    "",
                    f"{float(memory.stdout.split()[-1]):.2f}x (goal 3.00x)",
                )
            )
            rows.append(
                (
                    f"scale: load + derive, {reports} reports ({reports * per_report} figures)",
                    f"{took * 1000:.0f} ms ({took / reports * 1000:.1f} ms/report)",
                    growth,
                )
            )
            previous = took

    width = max(len(r[0]) for r in rows)
    print(
        f"machine: {platform.node()} | {platform.platform()} | Python {platform.python_version()}"
        f" | {os.cpu_count()} cores | median of {args.repeat}+ runs"
    )
    print(f"{'measurement':{width}}  {'time':>22}  ratio")
    for name, value, ratio in rows:
        print(f"{name:{width}}  {value:>22}  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
