#!/usr/bin/env python3
"""Project tasks: set up the pinned environment, then build or test.

    python3 tasks.py build      # the main job: the PDF briefings, in out/briefings/
    python3 tasks.py test       # every test: data, notebooks (nbval), metadata, lint, types
    python3 tasks.py notebooks  # re-execute the notebooks and store their outputs
    python3 tasks.py mutation   # change each figure in turn; report how many nbval catches
    python3 tasks.py bench      # benchmarks, printed as a table
    python3 tasks.py lock       # re-resolve requirements.lock after changing pyproject.toml

Needs only Python 3.11+ and access to PyPI. The first run creates ``.venv`` and installs
the exact versions in ``requirements.lock``; later runs reinstall only when the lock file or
pyproject.toml changed. Uses the standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from xml.sax.saxutils import unescape

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("HUAIYIN_VENV", ROOT / ".venv"))
LOCK = ROOT / "requirements.lock"
STAMP = VENV / "huaiyin-installed.sha256"
MIN_PYTHON = (3, 11)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: object) -> None:
    """Run a command, stopping with its exit status if it fails."""
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def wanted_state() -> str:
    """Fingerprint of what the environment must match: the lock and the project metadata."""
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def excluded() -> list[str]:
    """Packages the lock leaves out on purpose (pyproject.toml says why)."""
    import tomllib  # here, so that an older Python gets ensure_env's message, not an ImportError

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(pyproject.get("tool", {}).get("uv", {}).get("exclude-dependencies", []))


def ensure_env() -> Path:
    """Create .venv, or update it in place, so that it holds the locked versions and none of
    the packages the lock leaves out."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"huaiyin needs Python {'.'.join(map(str, MIN_PYTHON))} or later; "
            f"this is {sys.version.split()[0]} ({sys.executable})."
        )
    python = venv_python()
    if not python.exists():
        print(f"tasks: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    state = wanted_state()
    if STAMP.exists() and STAMP.read_text().strip() == state:
        return python
    print(
        f"tasks: installing the locked environment into {VENV} (takes a minute or so)",
        flush=True,
    )
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    # The lock holds every package: pip resolving again would add back what it leaves out.
    run(*pip, "install", "--quiet", "--no-deps", "--requirement", LOCK)
    left_out = excluded()
    if left_out:  # from an environment made before; -qq: no warning for one already absent
        run(*pip, "uninstall", "-qq", "--yes", *left_out)
    run(*pip, "check")  # without resolving, pip would not notice a package the lock lacks
    # The build backend comes from the lock too, so no unpinned download happens here.
    run(*pip, "install", "--quiet", "--no-deps", "--no-build-isolation", "--editable", ROOT)
    STAMP.write_text(state + "\n")
    return python


# Re-resolves the lock for every extra and for every Python the project supports.
LOCK_COMMAND = [
    "uv",
    "pip",
    "compile",
    "pyproject.toml",
    "--all-extras",
    "--universal",
    "--python-version",
    "3.11",
    "--quiet",
    "--output-file",
    "requirements.lock",
]
TASKS = {
    "build": ["-m", "huaiyin", "brief", "--out", "out/briefings"],
    # One worker per core, each taking whole files: a notebook's cells run in order in one
    # kernel, and the heavy files (the briefing build, the browser, nbval) overlap.
    "test": ["-m", "pytest", "-n", "auto", "--dist", "loadfile"],
    "notebooks": ["tools/run_notebooks.py", "execute"],
    "mutation": ["tools/run_notebooks.py", "mutate", "--all"],
    "bench": ["tools/bench.py"],
}


def browser_font_current(conf: Path) -> bool:
    """Whether the fontconfig file names a font folder inside this environment that exists.

    The folder is compared as a path: a substring test would take another checkout's
    environment (/elsewhere/work/main/.venv) for this one (/work/main/.venv).
    """
    if not conf.is_file():
        return False
    named = re.search(r"<dir>(.*?)</dir>", conf.read_text(encoding="utf-8", errors="replace"))
    if named is None:
        return False
    folder = Path(unescape(named.group(1)))
    return folder.is_relative_to(VENV.resolve()) and folder.is_dir()


def ensure_browser_font(python: Path) -> None:
    """Let a browser on this machine draw Chinese: a fontconfig file for the bundled face.

    Without a Chinese font (a fresh server), JupyterLab's Markdown, tables and code show
    Chinese as empty boxes. Written once, into ~/.config/fontconfig/conf.d, and rewritten
    when it no longer points into this environment; HUAIYIN_NO_BROWSER_FONT=1 skips it.
    """
    if os.environ.get("HUAIYIN_NO_BROWSER_FONT") == "1":
        return
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    conf = home / "fontconfig" / "conf.d" / "50-huaiyin-cjk-sc.conf"
    if browser_font_current(conf):
        return
    # Not fatal: the browser test says what is missing if this could not be done.
    subprocess.run([str(python), "-m", "huaiyin", "browser-font"], cwd=ROOT)


def main(argv: list[str]) -> None:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if task in TASKS:
        python = ensure_env()
        ensure_browser_font(python)
        run(python, *TASKS[task], *rest)
    elif task == "lock":
        python = ensure_env()
        # The version the lock was last made with: an older uv may not know
        # exclude-dependencies, and would put the excluded packages back.
        run(python, "-m", "pip", "install", "--quiet", "uv>=0.13")
        run(python, "-m", *LOCK_COMMAND)
    else:
        print(__doc__)
        sys.exit(0 if task in {"help", "-h", "--help"} else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
