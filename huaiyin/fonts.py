"""Find a font face with Simplified Chinese glyph shapes, offline, for charts and PDFs.

Looked up in this order:

1. the font file named by the ``HUAIYIN_CJK_FONT`` environment variable;
2. the Noto Sans CJK collection installed with huaiyin (PyPI ``noto-cjk-sans-otc``, OFL);
3. a Noto Sans CJK or WenQuanYi font from the conda environment or the system.

Of a collection (``.ttc``) the Simplified Chinese face is chosen by its family name: face 0
of Noto Sans CJK is the Japanese one, whose 直, 骨 and 角 differ from mainland forms.
"""

from __future__ import annotations

import os
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from fontTools.ttLib import TTCollection, TTFont

__all__ = [
    "CHART_TEXT_ENV",
    "FONT_ENV",
    "SC_FAMILIES",
    "FontNotFoundError",
    "SCFace",
    "browser_font_config",
    "extract",
    "find_sc_face",
    "install_browser_font",
]

FONT_ENV = "HUAIYIN_CJK_FONT"
# How a chart's SVG holds its text: "outlines" (the default), glyphs drawn as paths, which need
# no font where the chart is shown, as in a browser without a Chinese font; or "text", drawn
# from the face by whatever shows it. The briefing asks its kernels for text: its PDFs embed
# the face, WeasyPrint lays text out about three times faster than it draws outlines, and
# readers can search and copy a chart's words and numbers. It is named here, with the font,
# so that the briefing and the tools can set it without importing matplotlib.
CHART_TEXT_ENV = "HUAIYIN_CHART_TEXT"
# Families that draw Simplified Chinese, best first.
SC_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")
_FILE_HINTS = ("notosanscjk", "notosanssc", "wqy-microhei", "wqy-zenhei")
_SYSTEM_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")


class FontNotFoundError(RuntimeError):
    """No font with Simplified Chinese glyphs could be found."""


@dataclass(frozen=True)
class SCFace:
    """A Simplified Chinese face: its file, its index in a collection, its family, its origin."""

    path: Path
    index: int
    family: str
    origin: str


def find_sc_face() -> SCFace:
    """Find the Simplified Chinese face to use, in the documented order.

    Raises
    ------
    FontNotFoundError
        If ``HUAIYIN_CJK_FONT`` names a missing or non-Chinese font, or no font is found;
        the message says how to install one.
    """
    explicit = os.environ.get(FONT_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FontNotFoundError(f"{FONT_ENV}={explicit!r}: no such font file")
        return _sc_face(path, f"${FONT_ENV}")
    bundled = _bundled_font()
    if bundled is not None:
        return _sc_face(bundled, "the noto-cjk-sans-otc package")
    for path in _environment_font_files():
        try:
            return _sc_face(path, "the conda environment or the system")
        except FontNotFoundError:
            continue
    raise FontNotFoundError(
        "no font with Simplified Chinese glyphs found, so Chinese would be drawn as boxes. "
        "Install one: `pip install noto-cjk-sans-otc` (what huaiyin depends on), "
        "`conda install -c conda-forge font-ttf-noto-cjk`, or "
        "`apt-get install fonts-noto-cjk`; or set "
        f"{FONT_ENV} to the path of a .ttf/.otf/.ttc font that covers Chinese."
    )


def extract(face: SCFace, folder: Path, text: str) -> Path:
    """Write the glyphs of ``face`` that ``text`` needs (plus printable ASCII) to ``folder``
    as a single-face font file, and return its path.

    WeasyPrint draws face 0 of a collection, so a PDF needs the SC face on its own; the full
    face is 16 MB, and subsetting it once per build is far faster than once per PDF.
    HarfBuzz subsets it in milliseconds, where fontTools took about a second.
    """
    import uharfbuzz as hb  # the briefings extra only

    source = hb.Face(hb.Blob.from_file_path(str(face.path)), face.index)
    wanted = hb.SubsetInput()
    # HarfBuzz keeps name IDs 0 to 6 by default: the family and PostScript names PDFs show.
    wanted.unicode_set.update(map(ord, set(text + string.printable)))
    try:
        subset = hb.subset(source, wanted)
    except RuntimeError as err:  # HarfBuzz's only failure: a face it cannot read or subset
        message = (
            f"{face.path} (face {face.index}) cannot be subset ({err}); the briefings need "
            "a .ttf, .otf, .ttc or .otc font"
        )
        raise FontNotFoundError(message) from None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{face.family.replace(' ', '')}-{face.index}.otf"
    target.write_bytes(subset.blob.data)
    return target


def _bundled_font() -> Path | None:
    try:
        import noto_cjk_sans_otc  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


def _environment_font_files() -> list[Path]:
    folders = [Path(sys.prefix) / "fonts", Path(sys.prefix) / "share" / "fonts"]
    if os.environ.get("CONDA_PREFIX"):
        folders.append(Path(os.environ["CONDA_PREFIX"]) / "fonts")
    folders += [Path(f).expanduser() for f in _SYSTEM_FOLDERS]
    hits = {
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.suffix.lower() in {".ttf", ".otf", ".ttc", ".otc"}
        and any(hint in path.name.lower() for hint in _FILE_HINTS)
    }
    # Regular weights first, then by name, so the choice does not depend on directory order.
    return sorted(hits, key=lambda p: ("regular" not in p.name.lower(), p.name))


def _families(path: Path) -> list[str]:
    """The family name of each face in a font file (one for .ttf/.otf, several for .ttc)."""
    try:
        if path.suffix.lower() in {".ttc", ".otc"}:
            faces = TTCollection(str(path), lazy=True).fonts
        else:
            faces = [TTFont(str(path), lazy=True)]
        return [str(face["name"].getBestFamilyName()) for face in faces]
    except Exception as err:  # fontTools raises several types for unreadable files
        raise FontNotFoundError(f"{path} is not a font fontTools can read: {err}") from None


def _sc_face(path: Path, origin: str) -> SCFace:
    families = _families(path)
    for wanted in SC_FAMILIES:
        if wanted in families:
            return SCFace(path, families.index(wanted), wanted, origin)
    raise FontNotFoundError(
        f"{path} (from {origin}) has no Simplified Chinese face; it offers "
        f"{', '.join(families) or 'no faces'}. Expected one of: {', '.join(SC_FAMILIES)}"
    )


# A browser on this machine (JupyterLab's Markdown, tables and code) draws Chinese with the
# fonts fontconfig knows; a server with none draws boxes. This file, in the user's fontconfig
# folder, adds the face huaiyin found as the fallback for Chinese after each generic family:
# Latin text keeps its font, and Chinese gets Simplified Chinese shapes.
BROWSER_FONT_FILE = "50-huaiyin-cjk-sc.conf"
_MARKER = "<!-- written by huaiyin: python -m huaiyin browser-font -->"


def browser_font_config(face: SCFace) -> str:
    """The fontconfig file that makes ``face`` the fallback for Chinese in every family."""
    folder = escape(str(face.path.resolve().parent))
    aliases = "".join(
        f"  <alias><family>{generic}</family><accept><family>{escape(face.family)}</family>"
        "</accept>"
        "</alias>\n"
        for generic in ("sans-serif", "serif", "monospace")
    )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"{_MARKER}\n<fontconfig>\n  <dir>{folder}</dir>\n{aliases}</fontconfig>\n"
    )


def install_browser_font(config_home: Path | None = None) -> tuple[Path, bool]:
    """Write the fontconfig file into ``$XDG_CONFIG_HOME/fontconfig/conf.d`` (default
    ``~/.config``); return its path and whether it changed. A file of that name that huaiyin
    did not write is left alone: FileExistsError."""
    home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    target = home / "fontconfig" / "conf.d" / BROWSER_FONT_FILE
    wanted = browser_font_config(find_sc_face())
    if target.exists():
        current = target.read_text(encoding="utf-8", errors="replace")
        if _MARKER not in current:
            raise FileExistsError(f"{target} exists and huaiyin did not write it; left as it is")
        if current == wanted:
            return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(wanted, encoding="utf-8")
    os.replace(temporary, target)
    return target, True
