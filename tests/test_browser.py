"""Each notebook runs in a real JupyterLab, driven in Debian's Chromium by Playwright.

Needs a Chromium on the machine (``apt-get install chromium``, or HUAIYIN_CHROMIUM=/path).
Without one the test skips and says so; with CI=true it fails instead, and .ci/run installs
Chromium first. The server runs on 127.0.0.1 in its own process group, on a copy of the
notebooks (JupyterLab saves what it runs), and is stopped by its process id.
"""

from __future__ import annotations

import asyncio
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
from typing import Any

import nbformat
import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CONTROL = "control-stderr.ipynb"
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, browser_path: str) -> Iterator[str]:
    """A JupyterLab server on a copy of the notebooks; yields its base URL with token."""
    workdir = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, workdir / notebook.name)
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
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"),
    }
    env.pop("MPLBACKEND", None)
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
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
                    raise RuntimeError(f"JupyterLab did not start (exit {server.poll()})") from None
                time.sleep(0.5)
        yield f"{base}|{token}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def stored_image_count(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(
        "image/svg+xml" in o.get("data", {})
        for c in cells
        if c.cell_type == "code"
        for o in c.outputs
    )


async def run_in_lab(page: Any, lab: str, name: str) -> dict[str, object]:
    """Open a notebook in JupyterLab, run all its cells, and report what the page shows."""
    base, token = lab.split("|")
    # A workspace of its own, reset, so that no earlier notebook is restored beside it.
    workspace = Path(name).stem.replace("-", "")
    await page.goto(f"{base}/lab/workspaces/{workspace}/tree/{name}?reset&token={token}")
    await page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    # "Idle" shows before the kernel exists: wait for the kernel's name as well.
    await page.wait_for_selector(".jp-Toolbar-kernelName:has-text('Python 3')", timeout=120_000)
    await page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        "?.getAttribute('data-status') === 'idle'",
        timeout=120_000,
    )
    await page.click("li.lm-MenuBar-item:has-text('Run')")
    await page.click("li.lm-Menu-item:has-text('Run All Cells')")
    code_cells = await page.locator(".jp-CodeCell").count()
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
    )
    stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    return {
        "stderr": await stderr.all_inner_texts(),
        "tables": await page.locator(
            ".jp-OutputArea-output table.reader, .jp-OutputArea-output table.dataframe"
        ).count(),
        "image_widths": await page.eval_on_selector_all(
            ".jp-OutputArea-output img[src^='data:image/svg+xml']",
            "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)",
        ),
    }


async def run_all_in_lab(lab: str, browser_path: str, names: list[str]) -> dict[str, object]:
    """Every notebook in its own page of one browser, a few at a time, against one server."""
    from playwright.async_api import async_playwright

    slots = asyncio.Semaphore(2 * (os.cpu_count() or 1))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_path, args=CHROMIUM_FLAGS
        )

        async def one(name: str) -> dict[str, object]:
            async with slots:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                try:
                    return await run_in_lab(page, lab, name)
                finally:
                    await page.close()

        try:
            results = await asyncio.gather(*(one(n) for n in names), return_exceptions=True)
        finally:
            await browser.close()
    return dict(zip(names, results, strict=True))


@pytest.fixture(scope="module")
def shown(lab: str, browser_path: str) -> dict[str, object]:
    """What each notebook, and the control, showed after Run All, run side by side."""
    return asyncio.run(run_all_in_lab(lab, browser_path, [n.name for n in NOTEBOOKS] + [CONTROL]))


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


def test_the_browser_checks_can_fail(shown: dict[str, object]) -> None:
    """A control notebook that warns and raises: the same checks must see both."""
    page = result_of(shown, CONTROL)
    texts = "\n".join(page["stderr"])  # type: ignore[arg-type]
    assert "a warning on stderr" in texts and "ValueError" in texts
    assert page["tables"] == 0 and page["image_widths"] == []
