"""environment.yml, pyproject.toml, requirements.lock and the running environment agree.

No conda client can run on the project's machines, so environment.yml is kept honest here.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

# conda-forge name -> PyPI name, where they differ.
CONDA_TO_PYPI = {
    "matplotlib-base": "matplotlib",
    "font-ttf-noto-cjk": "noto-cjk-sans-otc",
    "nbconvert-core": "nbconvert",
}

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def pyproject_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def conda_requirements() -> dict[str, str]:
    """conda dependencies as {pypi name: specifier}, without python and pip themselves."""
    specs = {}
    for dep in ENVIRONMENT["dependencies"]:
        if isinstance(dep, dict):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep)
        assert match, f"environment.yml: cannot read {dep!r}"
        name, spec = match.groups()
        if name in {"python", "pip"}:
            continue
        specs[CONDA_TO_PYPI.get(name, name).lower()] = spec.replace(" ", "")
    return specs


def test_environment_yml_uses_conda_forge_only() -> None:
    assert ENVIRONMENT["channels"] == ["conda-forge"]


def test_environment_yml_and_pyproject_declare_the_same_dependencies() -> None:
    pip = {r.name.lower(): str(r.specifier) for r in pyproject_requirements()}
    conda = conda_requirements()
    assert sorted(conda) == sorted(pip), "package lists differ"
    assert conda == pip, "version constraints differ"


def test_python_versions_agree() -> None:
    python = next(
        d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python")
    )
    assert python.removeprefix("python") == PYPROJECT["project"]["requires-python"]


def test_environment_yml_installs_the_project_itself() -> None:
    pip_section = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    assert pip_section == ["--editable ."]


def locked_versions() -> dict[str, str]:
    """Exact pins of requirements.lock that apply to the running interpreter."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(default_environment()):
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"requirements.lock: {line!r} is not an exact pin"
        pins[requirement.name.lower()] = spec.version
    return pins


def test_lock_pins_every_declared_dependency() -> None:
    pins = locked_versions()
    for requirement in pyproject_requirements():
        name = requirement.name.lower()
        assert name in pins, f"{name} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(pins[name]), (
            f"{name}=={pins[name]} in the lock does not satisfy {requirement}"
        )


@pytest.mark.parametrize("requirement", pyproject_requirements(), ids=str)
def test_running_environment_matches_the_lock(requirement: Requirement) -> None:
    name = requirement.name.lower()
    try:
        installed = version(name)
    except PackageNotFoundError:
        pytest.fail(f"{name} is declared but not installed; run python3 tasks.py test")
    assert installed == locked_versions()[name], (
        f"{name} {installed} is installed but the lock pins {locked_versions()[name]}"
    )


def every_locked_name() -> set[str]:
    """The name of every package in requirements.lock, whatever the platform it is for."""
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    return {
        canonicalize_name(Requirement(line).name)
        for line in (line.split("#", 1)[0].strip() for line in lines)
        if line
    }


EXCLUDED = PYPROJECT.get("tool", {}).get("uv", {}).get("exclude-dependencies", [])


@pytest.mark.parametrize("name", EXCLUDED)
def test_what_the_lock_leaves_out_is_not_installed(name: str) -> None:
    """pyproject.toml says why each is left out."""
    assert canonicalize_name(name) not in every_locked_name(), (
        f"{name} is excluded but requirements.lock pins it"
    )
    try:
        installed = version(name)
    except PackageNotFoundError:
        return
    pytest.fail(f"{name} {installed} is installed but the lock leaves it out: pip uninstall {name}")
