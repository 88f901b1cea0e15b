"""``python -m lab3.handouts``: build the handouts (or the nbgrader course root)."""

import argparse
import sys

from lab3.handouts.build import build
from lab3.handouts.cells import HandoutError


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lab3.handouts",
        description="Build the classroom handouts: instructor and student versions of every "
        "lesson, as offline HTML (and, with --pdf, PDF), with an index; or, with "
        "--nbgrader, an nbgrader course root.",
    )
    parser.add_argument(
        "--notebooks",
        default="notebooks",
        help="folder of the lessons (default: notebooks, in the current folder)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: handouts, or handouts/nbgrader with --nbgrader)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--pdf", action="store_true", help="also print every page to PDF with a headless Chromium"
    )
    mode.add_argument(
        "--nbgrader",
        action="store_true",
        help="write an nbgrader course root (source/<lesson>/<lesson>.ipynb) instead",
    )
    args = parser.parse_args(argv)
    try:
        if args.nbgrader:
            from lab3.handouts.nbgrader import export

            export(args.notebooks, args.out or "handouts/nbgrader")
        else:
            build(args.notebooks, args.out or "handouts", pdf=args.pdf)
    except HandoutError as error:
        print(f"handouts: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
