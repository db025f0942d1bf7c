"""Code quality gates that run with the tests: types, and what `import huaiyin` costs."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_mypy_strict_is_clean_on_the_package() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_its_type_marker() -> None:
    assert (ROOT / "huaiyin" / "py.typed").is_file()


def test_import_does_not_pull_in_plotting_or_validation_libraries() -> None:
    code = (
        "import sys, huaiyin, huaiyin.derive, huaiyin.units; "
        "print(sorted(m for m in ('matplotlib', 'seaborn', 'frictionless') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
