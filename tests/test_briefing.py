"""PDF briefings: one per notebook plus a combined one, code-free, in an embedded SC face."""

from __future__ import annotations

import base64
import ctypes
import re
import statistics
import urllib.parse
from pathlib import Path
from typing import Any

import nbformat
import PIL.Image
import pypdfium2 as pdfium
import pypdfium2.raw as raw
import pytest
import weasyprint
from pypdf import PdfReader

from conftest import Build, in_running_text, pdf_text, running_pages, running_text
from huaiyin import briefing, fonts
from huaiyin.glossary import LANGUAGES

# Each edition's notebooks, in the order the build executes them (Chinese first).
EDITIONS = {lang: briefing.default_notebooks(lang) for lang in LANGUAGES}
NOTEBOOKS = EDITIONS["en"]
ORDER = [path for paths in EDITIONS.values() for path in paths]
COMBINED = {lang: briefing.combined_name(lang) for lang in LANGUAGES}
PDF_NAMES = [briefing.pdf_name(p, lang) for lang, paths in EDITIONS.items() for p in paths] + [
    COMBINED[lang] for lang in LANGUAGES
]
# Text that only code cells contain: none of it may reach a PDF.
CODE_MARKERS = [
    "import huaiyin",
    "charts.bar_chart(",
    "plt.show()",
    "%config",
    "pd.set_option",
    'load_table("',
    "derive.table(",
]


@pytest.fixture(scope="session")
def built(briefing_build: Build) -> tuple[Path, list[str]]:
    """The PDFs of the suite's one real build, and the progress it printed."""
    assert briefing_build.result.returncode == 0, briefing_build.result.stderr
    return briefing_build.out, briefing_build.messages


def chinese_title(notebook: Path) -> str:
    """The Chinese of a notebook's title: after （ in English, the whole title in Chinese."""
    first_line = nbformat.read(notebook, as_version=4).cells[0].source.splitlines()[0]
    if "（" not in first_line:
        return first_line.removeprefix("# ").strip()
    return first_line.split("（", 1)[1].rstrip("）")


def edition(name: str) -> str:
    """The language of a PDF, from its name: 01-economy.zh.pdf is Chinese."""
    return name.removesuffix(".pdf").rsplit(".", 1)[1]


def test_progress_is_shown_per_notebook(built: tuple[Path, list[str]]) -> None:
    _, messages = built
    for number, notebook in enumerate(ORDER, start=1):
        assert any(
            m.startswith(f"[{number}/{len(ORDER)}] executed {notebook.name}") for m in messages
        ), messages
    assert sum(m.startswith("wrote ") for m in messages) == len(PDF_NAMES)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_pdf_has_pages_text_and_no_code(built: tuple[Path, list[str]], name: str) -> None:
    out, _ = built
    path = out / name
    assert len(PdfReader(path).pages) >= 1
    text = pdf_text(path)
    for marker in CODE_MARKERS:
        assert marker not in text, f"{name} shows code: {marker!r}"
    # What must be there is looked for in the running text: a chart cannot stand in for it.
    text = running_text(path)
    lang = edition(name)
    notebooks = (
        EDITIONS[lang]
        if name == COMBINED[lang]
        else [p for p in EDITIONS[lang] if briefing.pdf_name(p, lang) == name]
    )
    assert notebooks
    for notebook in notebooks:
        assert chinese_title(notebook) in text.replace("\r", "").replace("\n", "")
    if name.startswith(("00-overview.", "01-economy.", "huaiyin-briefing.")):
        assert "365.5" in text


@pytest.mark.parametrize("name", PDF_NAMES)
def test_fonts_are_embedded_and_simplified_chinese(
    built: tuple[Path, list[str]], name: str
) -> None:
    fonts = {}
    for page in PdfReader(built[0] / name).pages:
        for font in ((page.get("/Resources") or {}).get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), f"fonts not embedded: {fonts}"
    assert any("CJK-SC" in font for font in fonts), f"no Simplified Chinese face: {list(fonts)}"
    assert not any("JP" in font for font in fonts), list(fonts)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_first_page_is_not_blank(built: tuple[Path, list[str]], name: str) -> None:
    image = pdfium.PdfDocument(built[0] / name)[0].render(scale=60 / 72).to_pil().convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 500, f"page 1 of {name} looks blank ({dark} dark pixels)"


TITLE_PAGE = {
    "en": (
        "槐荫区2023年上半年经济简报",
        "时期 Period",
        "来源 Source",
        "王贝艺",
        "编制日期 Prepared",
        "目录 Contents",
    ),
    "zh": ("槐荫区2023年上半年经济简报", "时期", "来源", "王贝艺", "编制日期", "目录"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_combined_briefing_has_title_page_and_contents(
    built: tuple[Path, list[str]], lang: str
) -> None:
    path = built[0] / COMBINED[lang]
    title_page = running_pages(path)[0]
    for expected in TITLE_PAGE[lang]:
        assert expected in title_page, expected
    if lang == "zh":
        assert not re.search(r"Period|Source|Contents|Prepared|About the data", pdf_text(path))


# What a reader sees: no ids, no internal words, no raw floats, the source on every page.
INTERNAL_WORDS = ["hy2023h1.", "more_than", "less_than", "unstated", "2023YTD", "2023H1", "derive."]
# How the project is built is not the reader's business.
PROJECT_WORDS = re.compile(
    r"data package|notebook|SHA-256|\btests?\b|nbval|\bhuaiyin\b|数据包|笔记本|代码|测试"
)


@pytest.mark.parametrize("name", PDF_NAMES)
def test_pdf_shows_no_ids_codes_or_raw_numbers(built: tuple[Path, list[str]], name: str) -> None:
    text = pdf_text(built[0] / name)
    for word in INTERNAL_WORDS:
        assert word not in text, f"{name} prints {word!r}"
    assert not re.search(r"\bNaN\b|\bnan\b|<NA>", text), f"{name} prints a missing value"
    # Reader tables state their rounding; none states more than 3 decimal places.
    long_decimals = re.findall(r"\d+\.\d{4,}", text)
    assert not long_decimals, f"{name} prints unrounded numbers: {long_decimals[:5]}"
    project = sorted(set(PROJECT_WORDS.findall(text)))
    assert not project, f"{name} talks about how the project is built: {project}"
    # Sentences and tables, not charts: a chart's axis keeps one precision (0.0, 2.5, 5.0),
    # and its tick labels end lines above the axis's unit.
    running = running_text(built[0] / name)
    whole_as_float = re.findall(r"(?<![\d.])\d+\.0(?![\d%])", running)
    assert not whole_as_float, f"{name} prints whole numbers as decimals: {whole_as_float[:5]}"
    # A number is never parted from its unit at the end of a line (365.5亿 / 元).
    parted = re.findall(r"[0-9][万亿]?\r?\n[万亿元人次家个场位户名趟%]", running)
    assert not parted, f"{name} breaks a number from its unit: {parted[:5]}"


def test_running_text_leaves_out_a_charts_text_and_refuses_an_untagged_pdf(
    tmp_path: Path,
) -> None:
    chart = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
        '<text x="2" y="20" font-size="12">2.0 亿元</text>'
        '<text x="2" y="35" font-size="12" transform="rotate(-5 2 35)">0.0</text></svg>'
    )
    source = base64.b64encode(chart.encode()).decode()
    page = f'<p>1.5 元</p><img src="data:image/svg+xml;base64,{source}"><p>End.</p>'
    weasyprint.HTML(string=page).write_pdf(tmp_path / "tagged.pdf", pdf_tags=True)
    assert "2.0" in pdf_text(tmp_path / "tagged.pdf")
    assert running_text(tmp_path / "tagged.pdf").split() == ["1.5", "元", "End."]
    weasyprint.HTML(string=page).write_pdf(tmp_path / "untagged.pdf")
    with pytest.raises(AssertionError, match="is the PDF tagged"):
        running_text(tmp_path / "untagged.pdf")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_after_the_title_page_names_the_source(
    built: tuple[Path, list[str]], lang: str
) -> None:
    path = built[0] / COMBINED[lang]
    footer = {"en": "来源 Source: 记者", "zh": "来源：记者"}[lang]
    title_page = pdfium.PdfDocument(path)[0].get_textpage().get_text_range()
    assert footer not in title_page, "the title page has no footer"
    # A chart's source line starts like the footer: only the running text counts.
    pages = running_pages(path)
    missing = [i + 1 for i, page in enumerate(pages) if i and footer not in page]
    assert not missing, f"pages without the source footer: {missing}"


KEY_NUMBERS = {
    "en": ("Key numbers", "The source", "全区生产总值 Gross domestic product"),
    "zh": ("主要数据", "资料来源", "全区生产总值"),
}
GDP_ROW = {
    "en": ["365.5亿元", "6.4%", "—", "H1", "2023"],
    "zh": ["365.5亿元", "6.4%", "—", "2023年上半年"],
}


@pytest.mark.parametrize(
    "name", [briefing.pdf_name(NOTEBOOKS[0], lang) for lang in LANGUAGES] + list(COMBINED.values())
)
def test_key_numbers_come_first_with_gdp_and_its_growth(
    built: tuple[Path, list[str]], name: str
) -> None:
    lang = edition(name)
    heading, next_heading, gdp_name = KEY_NUMBERS[lang]
    text = running_text(built[0] / name)
    key = text.index(heading)
    assert key < text.index(next_heading), "the key numbers open the overview"
    rows = text[key:].splitlines()
    gdp = next(line for line in rows if line.startswith(gdp_name + " "))
    assert gdp.split()[-len(GDP_ROW[lang]) :] == GDP_ROW[lang], gdp


# Layout, read from the PDFs: text sizes and the positions of what each page draws.
FOOTER_ZONE = 50  # points from the bottom edge: the running footer and the page number


def heading_left_at_bottom(page: pdfium.PdfPage) -> float | None:
    """Where a heading is the last thing on the page: its baseline, else None.

    Headings are the characters set larger than the page's body text; "last" means that no
    text, line or image lies below them outside the footer.
    """
    textpage = page.get_textpage()
    chars = [  # the running text's: a chart's labels are neither body text nor headings
        (raw.FPDFText_GetFontSize(textpage.raw, i), textpage.get_charbox(i)[1])
        for i in in_running_text(page, textpage)
        if textpage.get_text_range(i, 1).strip()
    ]
    chars = [(size, bottom) for size, bottom in chars if bottom > FOOTER_ZONE]
    if not chars:
        return None
    body = statistics.median(size for size, _ in chars)
    headings = [bottom for size, bottom in chars if size > 1.2 * body]
    if not headings:
        return None
    lowest = min(headings)
    below = [
        obj
        for obj in page.get_objects(max_depth=5)
        if FOOTER_ZONE < obj.get_bounds()[1] < lowest - 2
    ]
    return None if below else lowest


def filled(page: pdfium.PdfPage) -> float:
    """How far down the text area (A4, 18 mm top and 20 mm bottom margins) the page is used."""
    _, height = page.get_size()
    top, bottom = height - 18 * 72 / 25.4, 20 * 72 / 25.4
    lows = [o.get_bounds()[1] for o in page.get_objects(max_depth=5)]
    lows = [low for low in lows if low > FOOTER_ZONE]
    return (top - min(lows)) / (top - bottom) if lows else 0.0


@pytest.mark.parametrize("name", PDF_NAMES)
def test_no_page_ends_with_a_heading(built: tuple[Path, list[str]], name: str) -> None:
    document = pdfium.PdfDocument(built[0] / name)
    stranded = [i + 1 for i in range(len(document)) if heading_left_at_bottom(document[i])]
    assert not stranded, f"{name}: pages ending with a heading: {stranded}"


def test_the_heading_check_can_fail(tmp_path: Path) -> None:
    page = (
        "<html><body><p>Text before.</p><h2 style='font-size: 16pt; break-after: page'>"
        "Left behind</h2><p>What follows.</p></body></html>"
    )
    weasyprint.HTML(string=page).write_pdf(tmp_path / "stranded.pdf", pdf_tags=True)
    document = pdfium.PdfDocument(tmp_path / "stranded.pdf")
    assert heading_left_at_bottom(document[0]) is not None
    assert heading_left_at_bottom(document[1]) is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_only_a_sections_last_page_is_under_a_third_full(
    built: tuple[Path, list[str]], lang: str
) -> None:
    document = pdfium.PdfDocument(built[0] / COMBINED[lang])
    titles = [chinese_title(n) for n in EDITIONS[lang]] + ["数据说明"]
    texts = running_pages(built[0] / COMBINED[lang])
    starts = {i for i, text in enumerate(texts) if any(t in text[:200] for t in titles)}
    sparse = [
        i + 1
        for i in range(1, len(document) - 1)  # the title page and the last page may be short
        if filled(document[i]) < 1 / 3 and i + 1 not in starts
    ]
    assert not sparse, f"pages under a third full in mid-section: {sparse}"


def raster_images(path: Path) -> list[str]:
    """Where a PDF draws a raster image: inline, as an XObject, or inside a form."""
    document = pdfium.PdfDocument(path)
    return [
        f"page {number}"
        for number, page in enumerate(document, 1)
        for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE])
    ]


@pytest.mark.parametrize("name", PDF_NAMES)
def test_charts_are_vector_graphics(built: tuple[Path, list[str]], name: str) -> None:
    images = raster_images(built[0] / name)
    assert images == [], f"{name} holds raster images: {images}"


def fonts_of_characters(path: Path) -> set[str]:
    """The font of every character a PDF prints, charts' included (a chart's text sits in
    forms of its own, whose fonts the pages' resources do not list)."""
    names = set()
    for page in pdfium.PdfDocument(path):
        textpage = page.get_textpage()
        for index in range(textpage.count_chars()):
            if not raw.FPDFText_GetTextObject(textpage, index):
                continue  # a line break pdfium adds
            size = raw.FPDFText_GetFontInfo(textpage, index, None, 0, None)
            name = ctypes.create_string_buffer(size)
            raw.FPDFText_GetFontInfo(textpage, index, name, size, None)
            names.add(name.value.decode())
    return names


@pytest.mark.parametrize("name", PDF_NAMES)
def test_charts_print_their_words_as_text_in_the_simplified_chinese_face(
    built: tuple[Path, list[str]], name: str
) -> None:
    """A reader can search and copy a chart's words and numbers, drawn like the rest from
    the embedded SC face; the reader rules above read them too."""
    path = built[0] / name
    chart_text = len("".join(pdf_text(path).split())) - len("".join(running_text(path).split()))
    assert chart_text > 0, f"{name}: no chart prints text"
    face = fonts.find_sc_face().family.replace(" ", "-")  # as WeasyPrint names the font
    names = fonts_of_characters(path)
    assert names and all(re.fullmatch(rf"[A-Z]{{6}}\+{face}(-Bold)?", n) for n in names), names


def figure_alternatives(path: Path) -> list[str | None]:
    """The text alternative (``/Alt``) of every figure in a tagged PDF's structure."""
    found: list[str | None] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, dict):
            if node.get("/S") == "/Figure":
                found.append(node.get("/Alt"))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(PdfReader(path).trailer["/Root"]["/StructTreeRoot"])
    return found


@pytest.mark.parametrize("name", PDF_NAMES)
def test_every_chart_is_described_by_its_heading(built: tuple[Path, list[str]], name: str) -> None:
    """A screen reader gives a chart's heading (图：…), not nbconvert's "No description has
    been provided for this image"."""
    path = built[0] / name
    alternatives = figure_alternatives(path)
    running = "".join(running_text(path).split())
    assert alternatives, f"{name}: no figure"
    assert all(a and "".join(a.split()) in running for a in alternatives), alternatives


def test_the_font_subset_takes_in_the_text_of_svg_images() -> None:
    def svg(text: str) -> str:
        return f'<svg xmlns="http://www.w3.org/2000/svg"><text>{text}</text></svg>'

    body = (
        f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg("龘 1").encode()).decode()}">'
        f"<img src='data:image/svg+xml;charset=utf-8,{urllib.parse.quote(svg('靐 &amp; 2'))}'>"
        '<img src="data:image/svg+xml;base64,PHN2Zz48YnJva2Vu">'  # <svg><broken: left out
    )
    assert briefing._chart_text(body) == "龘 1靐 & 2"


def test_the_raster_check_can_fail(tmp_path: Path) -> None:
    PIL.Image.new("RGB", (4, 4), "red").save(tmp_path / "pixels.png")
    html = f'<p>chart</p><img src="{(tmp_path / "pixels.png").as_uri()}" style="width:2cm">'
    weasyprint.HTML(string=html).write_pdf(tmp_path / "raster.pdf")
    assert raster_images(tmp_path / "raster.pdf") == ["page 1"]


OPENING_AND_CLOSING = {
    "en": (
        ("目录 Contents", "数据截至 Data as of"),
        "Key numbers",
        "数据说明 About the data",
        ("近", "超", "突破", "余", "Year to date", "Not stated", "comparable prices"),
    ),
    "zh": (
        ("目录", "数据截至"),
        "主要数据",
        "数据说明",
        ("近", "超", "突破", "余", "今年以来", "未注明", "可比价格"),
    ),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_combined_briefing_opens_with_key_numbers_and_closes_with_about_the_data(
    built: tuple[Path, list[str]], lang: str
) -> None:
    first_page, key_numbers, about_title, terms = OPENING_AND_CLOSING[lang]
    pages = running_pages(built[0] / COMBINED[lang])
    assert all(words in pages[0] for words in first_page)
    assert key_numbers in pages[1]
    about = pages[-1]
    assert about.startswith(about_title)
    for term in terms:
        assert term in about, term


# The Chinese edition is Chinese: Latin letters only in terms such as GDP.
ALLOWED_LATIN = re.compile(r"GDP")


def latin_share(text: str) -> float:
    """Latin letters as a share of the letters (Latin and Chinese) in ``text``."""
    text = ALLOWED_LATIN.sub("", text)
    latin = len(re.findall(r"[A-Za-z]", text))
    chinese = len(re.findall(r"[\u4e00-\u9fff]", text))
    return latin / max(1, latin + chinese)


def english_sentences(text: str) -> list[str]:
    """Sentences and lines of ``text`` that are more than a fifth Latin letters."""
    parts = (s.strip() for s in re.split(r"[。；\r\n]", text))
    return [s for s in parts if len(s) >= 8 and latin_share(s) > 0.2]


@pytest.mark.parametrize("name", [n for n in PDF_NAMES if edition(n) == "zh"])
def test_the_chinese_pdfs_text_is_chinese(built: tuple[Path, list[str]], name: str) -> None:
    """Charts included."""
    text = pdf_text(built[0] / name)
    assert not english_sentences(text), f"{name} prints English: {english_sentences(text)[:5]}"
    assert latin_share(text) < 0.01, f"{name}: {latin_share(text):.1%} of its letters are Latin"


def test_the_chinese_text_check_can_fail(built: tuple[Path, list[str]]) -> None:
    text = pdf_text(built[0] / COMBINED["en"])
    assert english_sentences(text) and latin_share(text) > 0.2
