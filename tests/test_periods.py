"""Data from several reports and periods loads and filters cleanly.

The fixture adds a second, SYNTHETIC report (made-up values for H2 2023) to a copy of the
data, as the next real report would be added: one source row and more figure rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import huaiyin
from huaiyin.datapackage import DATA_ENV, data_dir
from huaiyin.derive import implied_prior_level, ratio

SYNTHETIC = "syn2023h2"
REAL_FIGURES = len(huaiyin.load_figures())


def append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with path.open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, header, lineterminator="\n").writerows(rows)


@pytest.fixture
def two_reports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for path in data_dir().iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    append_rows(
        tmp_path / "sources.csv",
        [
            {
                "id": SYNTHETIC,
                "title_zh": "合成测试数据",
                "title_en": "Synthetic test data",
                "reporter": "测试",
                "period": "2023H2",
                "place_zh": "济南市槐荫区",
                "place_en": "Huaiyin District, Jinan, Shandong",
                "language": "zh-Hans",
                "file": "synthetic.txt",
                "sha256": "0" * 64,
                "published": "2024-01-15",
                "note": "Synthetic: made-up values for tests only.",
            }
        ],
    )
    base = {
        "source_id": SYNTHETIC,
        "unit": "亿元",
        "qualifier": "exact",
        "period": "2023H2",
        "scope_zh": "槐荫区",
        "scope_en": "Huaiyin District",
        "note": "synthetic",
    }
    append_rows(
        tmp_path / "economy.csv",
        [
            {
                **base,
                "id": f"{SYNTHETIC}.gdp",
                "indicator": "gdp",
                "subject_zh": "全区生产总值",
                "subject_en": "Gross domestic product",
                "kind": "level",
                "value": "400",
                "printed": "400亿元",
                "citation": "生产总值400亿元",
            },
            {
                **base,
                "id": f"{SYNTHETIC}.gdp_growth",
                "indicator": "gdp",
                "subject_zh": "全区生产总值",
                "subject_en": "Gross domestic product",
                "kind": "growth",
                "value": "5",
                "unit": "%",
                "printed": "5%",
                "citation": "增长5%",
            },
            {
                **base,
                "id": f"{SYNTHETIC}.budget_revenue",
                "indicator": "budget_revenue",
                "subject_zh": "一般公共预算收入",
                "subject_en": "General public budget revenue",
                "kind": "level",
                "value": "30",
                "printed": "30亿元",
                "citation": "收入30亿元",
            },
        ],
    )
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    return tmp_path


def test_both_reports_load_together(two_reports: Path) -> None:
    sources = huaiyin.load_table("sources")
    assert sources["id"].tolist() == ["hy2023h1", SYNTHETIC]
    assert str(sources.loc[1, "published"].date()) == "2024-01-15"
    figures = huaiyin.load_figures()
    assert figures["source_id"].value_counts().to_dict() == {"hy2023h1": REAL_FIGURES, SYNTHETIC: 3}


def test_filter_by_period_and_compare_an_indicator(two_reports: Path) -> None:
    figures = huaiyin.load_figures()
    h2 = figures[figures["period"] == "2023H2"]
    assert set(h2["id"]) == {
        f"{SYNTHETIC}.gdp",
        f"{SYNTHETIC}.gdp_growth",
        f"{SYNTHETIC}.budget_revenue",
    }
    gdp = figures[(figures["indicator"] == "gdp") & (figures["kind"] == "level")]
    assert gdp.set_index("period")["value"].to_dict() == {"2023H1": 365.5, "2023H2": 400.0}


def test_derivations_stay_within_one_report(two_reports: Path) -> None:
    prior = implied_prior_level(f"{SYNTHETIC}.gdp", f"{SYNTHETIC}.gdp_growth")
    assert prior.period == "2022H2" and prior.value == pytest.approx(400 / 1.05)
    with pytest.raises(ValueError, match="differ in source_id, period"):
        implied_prior_level("hy2023h1.gdp", f"{SYNTHETIC}.gdp_growth")
    across = ratio(f"{SYNTHETIC}.budget_revenue", "hy2023h1.gdp")
    assert "different periods" in across.caveat
