"""Refresh the foundation's translation catalogue (trainer/translations).

The foundation is everything under trainer/ except the feature packages that keep their own
``translations`` folder (e.g. trainer/questions): those are extracted into their own catalogue.

    python trainer/translations/update.py           # extract, update (init if missing), compile;
                                                    # then compile every area's catalogue too
    python trainer/translations/update.py --files   # only list the files that are scanned

It runs the same steps as the pybabel commands in trainer/translations/README.md, in-process,
from the repository root (babel.cfg's patterns are relative to it).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.extract import DEFAULT_MAPPING
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.util import pathmatch

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "trainer"
CATALOGUE_DIR = PACKAGE / "translations"
MAPPING_FILE = ROOT / "babel.cfg"
# Catalogue folders are named "zh", not "zh_CN": Flask-Babel parses the UI locale zh_CN into
# Babel's zh_Hans_CN, and gettext then looks for zh_Hans_CN and zh, never zh_CN.
LOCALES = ["zh"]


def method_map() -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """babel.cfg's (pattern, method) list and per-pattern options (keywords, ...)."""
    if not MAPPING_FILE.exists():
        return list(DEFAULT_MAPPING), {}
    with MAPPING_FILE.open(encoding="utf-8") as fileobj:
        methods, options = parse_mapping_cfg(fileobj, filename=str(MAPPING_FILE))
    return methods, options


def area_packages() -> list[Path]:
    """Folders under trainer/ that own a translations folder (and so their own catalogue)."""
    return sorted(p.parent for p in PACKAGE.glob("*/**/translations") if p.is_dir())


def foundation_files() -> list[str]:
    """Repository-relative paths of the files babel.cfg maps, outside the area packages."""
    methods, _options = method_map()
    areas = set(area_packages())
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith((".", "_")) and here / d not in areas
        )
        for name in sorted(filenames):
            rel = (here / name).relative_to(ROOT).as_posix()
            method = next((m for pattern, m in methods if pathmatch(pattern, rel)), None)
            if method not in (None, "ignore"):
                found.append(rel)
    return found


def pybabel(*args: str) -> None:
    shown = [a for a in args if not a.startswith("trainer/") or a.endswith("translations")]
    more = len(args) - len(shown)
    print("pybabel", *shown, f"<{more} files>" if more else "")
    CommandLineInterface().run(["pybabel", "-q", *args])


def main(argv: list[str]) -> int:
    files = foundation_files()
    if "--files" in argv:
        print("\n".join(files))
        return 0
    os.chdir(ROOT)  # babel.cfg patterns and the file list are relative to the repository root
    catalogue_dir = CATALOGUE_DIR.relative_to(ROOT).as_posix()
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "messages.pot")
        pybabel("extract", "-F", "babel.cfg", "--add-location=file", "--sort-by-file",
                "--project=trainer", "--copyright-holder=trainer", "-o", pot, *files)
        for locale in LOCALES:
            pybabel("update", "-i", pot, "-d", catalogue_dir, "-l", locale,
                    "--init-missing", "--ignore-obsolete", "--previous")
    for locale in LOCALES:
        pybabel("compile", "-d", catalogue_dir, "-l", locale)
        for area in area_packages():  # areas refresh their own .po (see README.md); compile them
            if (area / "translations" / locale / "LC_MESSAGES" / "messages.po").exists():
                pybabel("compile", "-d", (area / "translations").relative_to(ROOT).as_posix(),
                        "-l", locale)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
