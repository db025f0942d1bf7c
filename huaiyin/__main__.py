"""Command line: ``python -m huaiyin summary``, ``brief`` and ``dictionary``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from huaiyin import dictionary, fonts
from huaiyin.tables import DataError, load_figures, load_table


def summary() -> str:
    """A plain-text overview of the data: the source, and figures by theme, kind and hedge."""
    sources = load_table("sources")
    figures = load_figures()
    out = []
    for source in sources.itertuples():
        out += [
            f"Source {source.id}: {source.title_zh}",
            f"  reporter {source.reporter}, period {source.period}, file {source.file}",
            f"  sha256 {source.sha256}",
        ]
    counts = pd.crosstab(figures["theme"], figures["kind"], margins=True, margins_name="all")
    hedged = figures[figures["qualifier"] != "exact"]
    out += [
        "",
        f"{len(figures)} figures in {figures['theme'].nunique()} themes:",
        counts.to_string(),
        "",
        f"{len(hedged)} figures carry the report's hedge (近 nearly; 超/突破/余 more than):",
        hedged[["id", "printed", "qualifier"]].to_string(index=False),
        "",
        f"{len(load_table('programmes'))} programme codes; {len(load_table('units'))} units.",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m huaiyin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("summary", help="load and validate every table, then summarise them")
    brief_parser = commands.add_parser(
        "brief", help="execute the notebooks afresh and print them as PDF briefings"
    )
    brief_parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder for the PDFs (created if missing)",
    )
    brief_parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        metavar="NOTEBOOK",
        help="notebooks to build (default: all themed notebooks)",
    )
    brief_parser.add_argument(
        "--lang",
        choices=["zh", "en", "all"],
        default="all",
        help="the edition to build: Chinese, English, or both (default)",
    )
    brief_parser.add_argument(
        "--no-combined",
        action="store_true",
        help="skip the combined briefing with title page and contents",
    )
    commands.add_parser(
        "browser-font",
        help="let a browser on this machine draw Chinese with the bundled Simplified Chinese "
        "face (writes a fontconfig file to ~/.config/fontconfig/conf.d)",
    )
    dict_parser = commands.add_parser("dictionary", help="print the data dictionary (Markdown)")
    dict_parser.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="rewrite the dictionary between FILE's marker comments",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "summary":
            print(summary())
        elif args.command == "browser-font":
            path, changed = fonts.install_browser_font()
            print(f"{path}: {'written' if changed else 'already up to date'}")
        elif args.command == "brief":
            # Imported here: WeasyPrint and nbconvert are slow to import and only needed here.
            from huaiyin import briefing

            try:
                briefing.build(
                    args.out,
                    args.notebooks or None,
                    combined=not args.no_combined,
                    languages=None if args.lang == "all" else [args.lang],
                )
            except briefing.BriefingError as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
        elif args.update:
            changed = dictionary.update(args.update)
            print(f"{args.update}: {'updated' if changed else 'already up to date'}")
        else:
            print(dictionary.render(), end="")
    except (DataError, KeyError, fonts.FontNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        # Missing or unreadable files and folders: the message names the path.
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
