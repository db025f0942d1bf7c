"""Each notebook runs in a real JupyterLab, driven in Debian's Chromium by Playwright.

Needs a Chromium on the machine (``apt-get install chromium``, or HUAIYIN_CHROMIUM=/path).
Without one the test skips and says so; with CI=true it fails instead, and .ci/run installs
Chromium first. The server runs on 127.0.0.1 in its own process group, on a copy of the
notebooks (JupyterLab saves what it runs), and is stopped by its process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from conftest import ROOT
from huaiyin.fonts import SC_FAMILIES

NOTEBOOKS = [
    *sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")),
    ROOT / "notebooks/explore.ipynb",
]
# The Chinese twins run the same code: they are opened with their stored outputs, not re-run.
TWINS = [ROOT / "notebooks" / "zh" / n.name for n in NOTEBOOKS]
CONTROL = "control-stderr.ipynb"
# Where the glyph check looks: a heading, a paragraph, a reader table's cell, a line of code.
PROBED = {
    "heading": ".jp-MarkdownOutput h1, .jp-MarkdownOutput h2",
    "text": ".jp-MarkdownOutput p",
    "table": ".jp-OutputArea-output table.reader td, .jp-OutputArea-output table.reader td span",
    "code": ".jp-CodeCell .cm-line, .jp-CodeCell .cm-line span",
}
# Waits check the page every POLL_MS, not on every animation frame: a check per frame keeps
# the page drawing frames, at a cost in CPU the notebooks' kernels then lack.
POLL_MS = 200
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium() -> str | None:
    explicit = os.environ.get("HUAIYIN_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser_path() -> str:
    path = chromium()
    if path is None:
        message = (
            "no Chromium found: install Debian's (apt-get install chromium) or set "
            "HUAIYIN_CHROMIUM to a Chromium binary to run the JupyterLab browser test"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Lab(NamedTuple):
    base: str  # the server's URL
    token: str
    workdir: Path  # its root folder, which holds its log


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, browser_path: str) -> Iterator[Lab]:
    """A JupyterLab server on a copy of the notebooks."""
    workdir = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, workdir / notebook.name)
    (workdir / "zh").mkdir()
    # Opened, not run: trusted, as the reader's own saved notebooks are, so that JupyterLab
    # shows their stored charts (it shows no SVG of an untrusted notebook).
    (workdir / ".data").mkdir()
    notary = NotebookNotary(data_dir=str(workdir / ".data"))
    for notebook in TWINS:
        shutil.copy(notebook, workdir / "zh" / notebook.name)
        notary.sign(nbformat.read(notebook, as_version=4))
    control = nbformat.v4.new_notebook()
    control.cells = [
        nbformat.v4.new_code_cell("import sys\nprint('a warning on stderr', file=sys.stderr)"),
        nbformat.v4.new_code_cell("raise ValueError('control')"),
    ]
    control.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(control, workdir / CONTROL)
    settings = workdir / ".settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    ).write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Every cell in the page, not only those in view: the checks see the whole notebook.
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    # No front-end build check: with node on the machine, each page would run yarn and node.
    (workdir / ".jupyter" / "labconfig").mkdir(parents=True)
    (workdir / ".jupyter" / "labconfig" / "page_config.json").write_text(
        json.dumps({"buildCheck": False, "buildAvailable": False})
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"),
        "JUPYTER_DATA_DIR": str(workdir / ".data"),
    }
    env.pop("MPLBACKEND", None)
    env["PYTHONUNBUFFERED"] = "1"  # its log is complete when it is killed
    with (workdir / SERVER_LOG).open("wb") as log:  # the server keeps its own copy
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={workdir}",
                f"--LabApp.user_settings_dir={settings}",
                "--LabApp.news_url=",
                "--ServerApp.port_retries=0",
                # window.jupyterapp: a page opens notebook after notebook without reloading Lab.
                "--LabApp.expose_app_in_browser=True",
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start (exit {server.poll()}); " + server_log(workdir)
                    ) from None
                time.sleep(0.5)
        yield Lab(base, token, workdir)
    finally:
        # The server and the kernels it started, at once: a throwaway server in a temporary
        # folder has nothing to save, and its graceful stop took about 3 s.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


SERVER_LOG = "server.log"


def server_log(workdir: Path, lines: int = 15) -> str:
    """The end of the JupyterLab server's output, for an error message."""
    text = (workdir / SERVER_LOG).read_text(encoding="utf-8", errors="replace")
    return "its log ends:\n" + "\n".join(text.splitlines()[-lines:])


def stored_image_count(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(
        "image/svg+xml" in o.get("data", {})
        for c in cells
        if c.cell_type == "code"
        for o in c.outputs
    )


async def glyphs(page: Any) -> list[dict[str, object]]:
    """For one element of each kind in ``PROBED`` whose own text holds Chinese: how many
    Chinese characters it has, and how many glyphs a Simplified Chinese face drew for it,
    as Chromium reports the fonts it used (empty boxes are drawn by a font without them)."""
    marked = await page.evaluate(
        """probed => {
            const chinese = /[\\u4e00-\\u9fff]/g;
            const found = [];
            for (const [kind, selector] of Object.entries(probed)) {
                for (const element of document.querySelectorAll(selector)) {
                    const own = [...element.childNodes].filter(n => n.nodeType === 3)
                        .map(n => n.textContent).join('');
                    const count = (own.match(chinese) || []).length;
                    if (count > 0) {
                        element.setAttribute('data-glyph-probe', kind);
                        found.push([kind, count, own]);
                        break;
                    }
                }
            }
            return found;
        }""",
        PROBED,
    )
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = (await cdp.send("DOM.getDocument", {"depth": 0}))["root"]["nodeId"]
    results = []
    for kind, count, text in marked:
        node = await cdp.send(
            "DOM.querySelector", {"nodeId": root, "selector": f"[data-glyph-probe='{kind}']"}
        )
        fonts = (await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]}))["fonts"]
        drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in SC_FAMILIES)
        results.append(
            {
                "kind": kind,
                "chinese": count,
                "sc_glyphs": drawn,
                "fonts": [f["familyName"] for f in fonts],
                "text": text[:40],
            }
        )
    await cdp.detach()
    return results


async def screenshots(page: Any, name: str) -> None:
    """With HUAIYIN_SCREENSHOTS=DIR, save the notebook's first screens there, to look at."""
    folder = os.environ.get("HUAIYIN_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    stem = name.replace("/", "-").removesuffix(".ipynb")
    scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
    await page.eval_on_selector(scroller, "e => e.scrollTo(0, 0)")
    for shot in range(3):
        await page.wait_for_timeout(300)
        await page.screenshot(path=str(Path(folder) / f"{stem}-{shot + 1}.png"))
        await page.eval_on_selector(scroller, "e => e.scrollBy(0, e.clientHeight - 80)")


async def start_lab(page: Any, lab: Lab, workspace: str) -> None:
    """Load JupyterLab once in ``page``, in a workspace of its own, reset and empty."""
    await page.goto(f"{lab.base}/lab/workspaces/{workspace}?reset&token={lab.token}")
    await page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
    await page.evaluate("async () => { await window.jupyterapp.restored; }")


async def close_all(page: Any) -> None:
    """Close every open document without a save prompt (the run changed the copies)."""
    await page.evaluate(
        """() => {
            for (const widget of Array.from(window.jupyterapp.shell.widgets('main'))) {
                if (widget.context) { widget.context.model.dirty = false; }
                widget.dispose();
            }
        }"""
    )
    await page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel')", timeout=60_000, polling=POLL_MS
    )


async def run_in_lab(page: Any, name: str, run: bool = True, label: str = "") -> dict[str, object]:
    """Open a notebook in the JupyterLab of ``page``, run all its cells (unless ``run`` is
    false: its stored outputs show), report what the page shows, and close it again;
    ``label`` names its screenshots."""
    # The command resolves to the notebook's widget: an object graph of the whole page that
    # Playwright would serialize and check, at a cost of seconds. Return nothing instead.
    await page.evaluate(
        "async path => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }",
        name,
    )
    await page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    # "Idle" shows before the kernel exists: wait for the kernel's name as well.
    await page.wait_for_selector(".jp-Toolbar-kernelName:has-text('Python 3')", timeout=120_000)
    await page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        "?.getAttribute('data-status') === 'idle'",
        timeout=120_000,
        polling=POLL_MS,
    )
    code_cells = await page.locator(".jp-CodeCell").count()
    # As many charts as the stored notebook shows (the control, made here, shows none).
    stored = ROOT / "notebooks" / name
    charts = stored_image_count(stored) if stored.is_file() else 0
    if not run:
        await page.wait_for_selector(".jp-OutputArea-output", timeout=120_000)
        await outputs_shown(page, charts)
        shown = await what_the_page_shows(page, label or name)
        await close_all(page)
        return shown
    # The command behind Run > Run All Cells, on the one notebook open. Clicking the menu
    # raced with JupyterLab moving focus to the new notebook: now and then the menu closed
    # before its item could be clicked. The command ends when the run does, with whether
    # every cell ran without an error (errors are checked below, as the page shows them);
    # without a notebook to run it returns nothing, and the stored prompts would pass the
    # wait below.
    ran = await page.evaluate(
        "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"
    )
    assert isinstance(ran, bool), f"Run All Cells did not run {name} (it returned {ran!r})"
    # Done when every code cell shows an execution count and the kernel is idle.
    await page.wait_for_function(
        """n => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const done = prompts.filter(p => /\\[\\d+\\]/.test(p.textContent)).length;
            const status = document.querySelector('.jp-Notebook-ExecutionIndicator')
                ?.getAttribute('data-status');
            return done === n && status === 'idle';
        }""",
        arg=code_cells,
        timeout=240_000,
        polling=POLL_MS,
    )
    await outputs_shown(page, charts)
    shown = await what_the_page_shows(page, label or name)
    await close_all(page)
    return shown


async def outputs_shown(page: Any, images: int) -> None:
    """Wait until the notebook shows its ``images`` charts, decoded, and every Markdown cell
    its text. A page that never does is left to the checks, which say what is missing."""
    from playwright.async_api import TimeoutError as PlaywrightTimeoutError

    with contextlib.suppress(PlaywrightTimeoutError):
        await page.wait_for_function(
            """images => {
                const shown = [...document.querySelectorAll(
                    ".jp-OutputArea-output img[src^='data:image/svg+xml']")];
                const markdown = [...document.querySelectorAll('.jp-MarkdownCell')];
                return shown.length === images
                    && shown.every(i => i.complete && i.naturalWidth > 0)
                    && markdown.every(
                        c => c.querySelector('.jp-MarkdownOutput')?.childElementCount > 0);
            }""",
            arg=images,
            timeout=30_000,
            polling=POLL_MS,
        )


async def next_frames(page: Any) -> None:
    """Wait for the page to draw two frames (what a scroll brought into view is laid out
    by then), or 300 ms at most, the fixed wait this replaces."""
    await page.evaluate(
        """() => new Promise(done => {
            requestAnimationFrame(() => requestAnimationFrame(done));
            setTimeout(done, 300);
        })"""
    )


async def what_the_page_shows(page: Any, name: str) -> dict[str, object]:
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    # The glyphs of the notebook's top, where its title and first text are.
    scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
    await page.eval_on_selector(scroller, "e => e.scrollTo(0, 0)")
    await next_frames(page)
    drawn = await glyphs(page)
    await screenshots(page, name)
    return {
        "glyphs": drawn,
        "stderr": await stderr.all_inner_texts(),
        "tables": await page.locator(
            ".jp-OutputArea-output table.reader, .jp-OutputArea-output table.dataframe"
        ).count(),
        "image_widths": await page.eval_on_selector_all(
            ".jp-OutputArea-output img[src^='data:image/svg+xml']",
            "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)",
        ),
    }


BOXES = "boxes"  # the glyph check's control: a browser that cannot see the Chinese face


async def run_all_in_lab(
    lab: Lab, browser_path: str, run: list[str], opened: list[str], boxes: str, no_fonts: Path
) -> dict[str, object]:
    """Every notebook in one browser against one server, in a few pages that each load
    JupyterLab once and open notebook after notebook: ``run`` are run, ``opened`` only
    opened. ``boxes`` is opened in a second browser whose fontconfig has only the system's
    fonts (none Chinese), as on a machine without set-up."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_path, args=CHROMIUM_FLAGS
        )
        bare = await playwright.chromium.launch(
            executable_path=browser_path,
            args=CHROMIUM_FLAGS,
            env={**os.environ, "XDG_CONFIG_HOME": str(no_fonts)},
        )

        # One context per browser: its pages share the HTTP cache and compiled scripts.
        viewport = {"width": 1400, "height": 1000}
        main = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        control = await bare.new_context(viewport=viewport)  # type: ignore[arg-type]
        results: dict[str, object] = {}
        queue: asyncio.Queue[tuple[str, bool, str, str]] = asyncio.Queue()
        for name in run:
            queue.put_nowait((name, True, name, name))
        for name in opened:
            queue.put_nowait((name, False, name, name))

        async def worker(where: Any, workspace: str, jobs: asyncio.Queue[Any]) -> None:
            """One page: JupyterLab loaded once, then notebook after notebook."""
            page = await where.new_page()
            try:
                await start_lab(page, lab, workspace)
                while not jobs.empty():
                    key, run_it, name, label = jobs.get_nowait()
                    try:
                        results[key] = await run_in_lab(page, name, run_it, label)
                    except Exception as err:  # reported by the test of that notebook
                        results[key] = err
                        await start_lab(page, lab, workspace)  # a clean page for the next
            finally:
                await page.close()

        control_queue: asyncio.Queue[tuple[str, bool, str, str]] = asyncio.Queue()
        control_queue.put_nowait((BOXES, False, boxes, f"{BOXES}-{boxes}"))
        pages = [worker(main, f"page{i}", queue) for i in range(os.cpu_count() or 1)]
        try:
            await asyncio.gather(*pages, worker(control, "boxes", control_queue))
        finally:
            await browser.close()
            await bare.close()
    return {key: results[key] for key in [*run, *opened, BOXES]}


@pytest.fixture(scope="module")
def shown(
    lab: Lab, browser_path: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """What each notebook, and the controls, showed (after Run All), side by side; a
    failure carries the end of the server's log."""
    twins = [f"zh/{n.name}" for n in TWINS]
    no_fonts = tmp_path_factory.mktemp("no-user-fonts")
    try:
        results = asyncio.run(
            run_all_in_lab(
                lab,
                browser_path,
                [n.name for n in NOTEBOOKS] + [CONTROL],
                twins,
                twins[1],
                no_fonts,
            )
        )
    except Exception as err:
        raise RuntimeError(f"{err}\nJupyterLab {server_log(lab.workdir)}") from err
    for key, result in results.items():
        if isinstance(result, Exception):
            failure = RuntimeError(
                f"{type(result).__name__}: {result}\nJupyterLab {server_log(lab.workdir)}"
            )
            failure.__cause__ = result
            results[key] = failure.with_traceback(result.__traceback__)
    return results


def boxes(drawn: object) -> list[dict[str, object]]:
    """The probed elements whose Chinese was not all drawn by a Simplified Chinese face."""
    assert isinstance(drawn, list)
    return [d for d in drawn if d["sc_glyphs"] < d["chinese"]]


SETUP_HINT = (
    "Chinese shows as empty boxes: run python3 tasks.py (any task), or python -m huaiyin "
    "browser-font, which lets the browser use the bundled Simplified Chinese face"
)


def result_of(shown: dict[str, object], name: str) -> dict[str, object]:
    result = shown[name]
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(shown: dict[str, object], notebook: Path) -> None:
    page = result_of(shown, notebook.name)
    assert page["stderr"] == [], page["stderr"]
    assert page["tables"] >= 1  # type: ignore[operator]
    widths = page["image_widths"]
    assert isinstance(widths, list) and len(widths) == stored_image_count(notebook), widths
    assert all(w > 100 for w in widths), widths
    drawn = page["glyphs"]
    assert {d["kind"] for d in drawn} >= {"heading", "table", "code"}, drawn  # type: ignore[attr-defined]
    assert not boxes(drawn), f"{SETUP_HINT}: {boxes(drawn)}"


@pytest.mark.parametrize("twin", TWINS, ids=[n.name for n in TWINS])
def test_chinese_notebook_shows_chinese_in_jupyterlab(shown: dict[str, object], twin: Path) -> None:
    page = result_of(shown, f"zh/{twin.name}")
    assert page["stderr"] == [] and page["tables"] >= 1, page  # type: ignore[operator]
    widths = page["image_widths"]
    assert isinstance(widths, list) and len(widths) == stored_image_count(twin), widths
    assert all(w > 100 for w in widths), widths
    drawn = page["glyphs"]
    assert {d["kind"] for d in drawn} == set(PROBED), drawn  # type: ignore[attr-defined]
    assert not boxes(drawn), f"{SETUP_HINT}: {boxes(drawn)}"


def test_the_glyph_check_catches_empty_boxes(shown: dict[str, object]) -> None:
    """The same notebook in a browser that cannot see the face: every probe is boxes."""
    drawn = result_of(shown, BOXES)["glyphs"]
    assert drawn and boxes(drawn) == drawn, drawn


def test_the_browser_checks_can_fail(shown: dict[str, object]) -> None:
    """A control notebook that warns and raises: the same checks must see both."""
    page = result_of(shown, CONTROL)
    texts = "\n".join(page["stderr"])  # type: ignore[arg-type]
    assert "a warning on stderr" in texts and "ValueError" in texts
    assert page["tables"] == 0 and page["image_widths"] == []
