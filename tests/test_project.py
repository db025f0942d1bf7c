"""The README's promises hold: two quick-start commands, CI runs the test one, docs are current."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

import huaiyin
from conftest import BAD_INPUT, ROOT, collected_bad_input_cases
from huaiyin import dictionary, fonts

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    assert quick_start_commands() == ["python3 tasks.py build", "python3 tasks.py test"]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = quick_start_commands()[1]
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in lines
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run is not executable"


def test_readme_data_dictionary_is_generated_and_current() -> None:
    assert dictionary.embed(dictionary.render(), README) == README, (
        "the data dictionary in README.md is stale; run "
        "python -m huaiyin dictionary --update README.md"
    )


def test_dictionary_tables_keep_their_columns_in_markdown() -> None:
    """A ``|`` in a cell (even inside a code span) is escaped, so no row gains a column."""
    rows = [line for line in dictionary.render().splitlines() if line.startswith("|")]
    assert any("H[12]\\|YTD" in row for row in rows)
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row


MARKERS = f"{dictionary.START} and {dictionary.END}"


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# Notes\n", f"has no data-dictionary markers; put the lines {MARKERS} where it goes"),
        (
            f"# Notes\n{dictionary.START}\n",
            f"has the marker {dictionary.START} but not {dictionary.END}; add it",
        ),
        (
            f"# Notes\n{dictionary.END}\n{dictionary.START}\n",
            f"has its markers in the wrong order; write {MARKERS}",
        ),
    ],
    ids=["none", "only-start", "reversed"],
)
def test_dictionary_update_without_usable_markers_says_what_to_write(
    tmp_path, capsys, text: str, message: str
) -> None:
    from huaiyin.__main__ import main

    document = tmp_path / "NOTES.md"
    document.write_text(text, encoding="utf-8")
    assert main(["dictionary", "--update", str(document)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {document}: {message}\n"  # one line
    assert document.read_text(encoding="utf-8") == text


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huaiyin", *args], capture_output=True, text=True, cwd=ROOT.parent
    )


def test_summary_command_loads_and_summarises_the_data() -> None:
    result = run_cli("summary")
    assert result.returncode == 0, result.stderr
    figures = huaiyin.load_figures()
    assert f"{len(figures)} figures in {figures['theme'].nunique()} themes" in result.stdout
    assert "突破千万人次" in result.stdout
    assert result.stderr == ""


@pytest.mark.bad_input
def test_cli_reports_bad_data_as_an_error_not_a_traceback(tmp_path) -> None:
    data = ROOT / "data"
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "talent.csv").write_text("", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "huaiyin", "summary"],
        capture_output=True,
        text=True,
        env={"HUAIYIN_DATA": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "talent.csv: is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_report_fails_under_ci_and_skips_elsewhere(tmp_path) -> None:
    """The report lives outside the project; CI must not pass by skipping every check of it."""
    test = "tests/test_citations.py::test_source_metadata_is_verbatim"
    outcomes = {}
    # One data test needs neither nbval nor the doctest options: leaving them out of the run
    # saves loading nbval and Jupyter's client (about 0.2 s a run), not what is checked.
    quick = ["-p", "no:nbval", "-o", "addopts="]
    for ci in ("true", ""):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *quick, test],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"CI": ci, "HUAIYIN_SOURCE": str(tmp_path), "PATH": ""},
        )
        outcomes[ci] = result.stdout.strip().splitlines()[-1]
        if ci:
            assert "report hy2023h1 not found at" in result.stdout, result.stdout[-2000:]
    assert "1 error" in outcomes["true"] or "1 failed" in outcomes["true"], outcomes
    assert "1 skipped" in outcomes[""], outcomes


def test_readme_states_the_number_of_bad_input_cases(request: pytest.FixtureRequest) -> None:
    cases = collected_bad_input_cases(request.config)
    if cases is None:  # this run collected part of the suite: collect all of it
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-m",
                BAD_INPUT,
                "-p",
                "no:cacheprovider",
                "tests",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        collected = re.search(r"^(\d+)/\d+ tests collected", result.stdout, flags=re.MULTILINE)
        assert collected, result.stdout[-2000:]
        cases = int(collected.group(1))
    stated = re.search(r"\*\*(\d+) bad-input cases\*\*", README)
    assert stated, "README.md must state how many bad-input cases are tested"
    assert int(stated.group(1)) == cases


def test_dictionary_update_is_safe_with_hostile_descriptions(data_copy, tmp_path) -> None:
    """Descriptor text is shown, never read as a marker or HTML; line endings are kept."""
    import json

    descriptor = data_copy / "datapackage.json"
    document = json.loads(descriptor.read_text(encoding="utf-8"))
    units = document["resources"][1]["schema"]["fields"]
    units[0]["description"] = f"ends early {dictionary.END} <b>bold</b>"
    units[1]["constraints"]["enum"][0] = "mo`ney"
    descriptor.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    markdown = dictionary.render()
    assert dictionary.END not in markdown and "&lt;b&gt;bold&lt;/b&gt;" in markdown
    assert "``mo`ney``" in markdown
    notes = tmp_path / "NOTES.md"
    notes.write_bytes(f"# Notes\r\n{dictionary.START}\r\n{dictionary.END}\r\nend\r\n".encode())
    assert dictionary.update(notes) is True
    assert dictionary.update(notes) is False, "a second update must change nothing"
    text = notes.read_bytes().decode()
    assert text.count(dictionary.END) == 1 and "\n" not in text.replace("\r\n", "")


def test_the_browser_font_file_is_written_once_and_never_over_a_users_own(tmp_path: Path) -> None:
    path, changed = fonts.install_browser_font(tmp_path)
    assert changed and path == tmp_path / "fontconfig" / "conf.d" / fonts.BROWSER_FONT_FILE
    text = path.read_text(encoding="utf-8")
    face = fonts.find_sc_face()
    assert f"<dir>{face.path.resolve().parent}</dir>" in text
    assert f"<accept><family>{face.family}</family></accept>" in text
    assert fonts.install_browser_font(tmp_path) == (path, False)
    path.write_text("<fontconfig/>", encoding="utf-8")  # the user's own file of that name
    with pytest.raises(FileExistsError, match="huaiyin did not write it; left as it is"):
        fonts.install_browser_font(tmp_path)
    assert path.read_text(encoding="utf-8") == "<fontconfig/>"


def test_tasks_rewrites_a_browser_font_file_that_names_another_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("project_tasks", ROOT / "tasks.py")
    assert spec is not None and spec.loader is not None
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    venv = tmp_path / "R&D" / ".venv"  # an ampersand: the file escapes it
    monkeypatch.setattr(tasks, "VENV", venv)
    conf = tmp_path / "50-huaiyin-cjk-sc.conf"

    def names(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        dir_element = f"<dir>{escape(str(folder))}</dir>"
        conf.write_text(f"<fontconfig>{dir_element}</fontconfig>", encoding="utf-8")

    fonts_folder = venv / "lib" / "python3.11" / "site-packages" / "noto_cjk_sans_otc"
    names(fonts_folder)
    assert tasks.browser_font_current(conf)
    # Another checkout, whose path holds this one's: a substring test would take it as current.
    names(tmp_path / "check" / fonts_folder.relative_to("/"))
    assert str(venv) in conf.read_text(encoding="utf-8").replace("&amp;", "&")
    assert not tasks.browser_font_current(conf)
    names(fonts_folder)  # this environment again, but its font folder is gone
    fonts_folder.rmdir()
    assert not tasks.browser_font_current(conf)
    assert not tasks.browser_font_current(tmp_path / "missing.conf")


def test_tasks_checks_the_browser_font_file_the_package_writes() -> None:
    # tasks.py runs before the package is installed, so it names the file itself.
    assert f'"{fonts.BROWSER_FONT_FILE}"' in (ROOT / "tasks.py").read_text(encoding="utf-8")
