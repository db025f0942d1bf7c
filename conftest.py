"""Project-wide pytest set-up for the notebooks run by nbval.

nbval reads its sanitize file relative to the working directory and starts each kernel with
pytest's environment; both are fixed here so that a run does not depend on where pytest was
started or on the caller's shell.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "nbval", False) and not config.option.nbval_sanitize_with:
        config.option.nbval_sanitize_with = str(ROOT / "notebooks" / "sanitize.cfg")
    # Inherited by the kernels: stable hashing (set order), inline figures (a global
    # MPLBACKEND=Agg would make every figure vanish from the outputs), and chart text as the
    # stored outputs hold it, in outlines (HUAIYIN_CHART_TEXT, huaiyin.fonts.CHART_TEXT_ENV, is
    # for the briefing's kernels; named, not imported, to keep huaiyin out of pytest's set-up).
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    for name in ("MPLBACKEND", "HUAIYIN_CHART_TEXT"):
        os.environ.pop(name, None)
