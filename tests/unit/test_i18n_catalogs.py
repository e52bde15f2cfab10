"""The Chinese catalogues are complete, consistent and compiled.

Every trainer/**/translations/zh catalogue: no empty or fuzzy entries, the same %(name)s
placeholders as the English, and a committed .mo that holds what the .po says.
The foundation catalogue (trainer/translations) also holds every string that Babel extracts from
the code outside the feature packages that keep their own catalogue.

Catalogue folders are named zh, not zh_CN: the UI locale is zh_CN, which Flask-Babel parses into
Babel's zh_Hans_CN, and gettext then looks for the folders zh_Hans_CN and zh, never zh_CN.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, check_and_call_extract_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel, get_translations

from tests.conftest import base_config
from trainer import create_app
from trainer.app import translation_directories
from trainer.translations import update

ROOT = update.ROOT
PO_FILES = sorted((ROOT / "trainer").glob("**/translations/zh/LC_MESSAGES/messages.po"))
FOUNDATION_PO = update.CATALOGUE_DIR / "zh" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")

HOW_TO_FIX = (
    "Refresh and translate the catalogue:\n"
    "    make translations   (or: .venv/bin/python trainer/translations/update.py)\n"
    "which runs, from the repository root:\n"
    "    pybabel extract -F babel.cfg -o /tmp/core.pot "
    "$(.venv/bin/python trainer/translations/update.py --files)\n"
    "    pybabel update -i /tmp/core.pot -d trainer/translations -l zh --ignore-obsolete\n"
    "then fill every empty msgstr (and clear '#, fuzzy') in "
    "trainer/translations/zh/LC_MESSAGES/messages.po, and\n"
    "    pybabel compile -d trainer/translations\n"
    "See trainer/translations/README.md."
)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def load_po(path: Path) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale="zh_CN")


def entries(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def label(message: Message) -> str:
    msgid, context = key(message)
    return f"{context}|{msgid!r}" if context else repr(msgid)


def strings(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string or ())


def placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text))


def test_there_is_a_foundation_catalogue() -> None:
    assert FOUNDATION_PO in PO_FILES, f"{rel(FOUNDATION_PO)} is missing.\n{HOW_TO_FIX}"


@pytest.fixture(params=PO_FILES, ids=rel)
def po_path(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def test_every_message_is_translated_and_none_is_fuzzy(po_path: Path) -> None:
    catalog = load_po(po_path)
    assert not catalog.fuzzy, f"{rel(po_path)}: the header is marked fuzzy (pybabel compile skips it)"
    untranslated = [label(m) for m in entries(catalog) if not all(strings(m)) or not strings(m)]
    fuzzy = [label(m) for m in entries(catalog) if m.fuzzy]
    assert not untranslated, f"{rel(po_path)}: empty msgstr for {untranslated}"
    assert not fuzzy, f"{rel(po_path)}: fuzzy entries (check, then drop the flag): {fuzzy}"


def test_placeholders_match(po_path: Path) -> None:
    catalog = load_po(po_path)
    wrong = []
    for message in entries(catalog):
        if isinstance(message.id, str):
            wanted = [placeholders(message.id)] * len(strings(message))
        else:  # plural: with one form (Chinese) it stands for the plural msgid
            singular, plural = (placeholders(i) for i in message.id[:2])
            forms = len(strings(message))
            wanted = [plural] if forms == 1 else [singular] + [plural] * (forms - 1)
        for expected, text in zip(wanted, strings(message), strict=True):
            if text and placeholders(text) != expected:
                wrong.append(f"{label(message)} -> {text!r}")
    # Babel's own checks: python-format conversions and the number of plural forms.
    wrong += [f"{label(m)}: {e}" for m, errors in catalog.check() for e in errors]
    assert not wrong, f"{rel(po_path)}: placeholders differ from the msgid:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_po(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{rel(mo_path)} is missing: run pybabel compile -d {rel(po_path.parents[2])}"
    # pybabel compile leaves out fuzzy and untranslated entries (the tests above catch those).
    po = {key(m): strings(m) for m in entries(load_po(po_path)) if not m.fuzzy and all(strings(m))}
    with mo_path.open("rb") as fileobj:
        mo = {key(m): strings(m) for m in entries(read_mo(fileobj))}
    stale = sorted(k for k in po.keys() | mo.keys() if po.get(k) != mo.get(k))
    assert not stale, (
        f"{rel(mo_path)} is out of date with the .po for {len(stale)} message(s), e.g. "
        f"{[msgid for msgid, _context in stale[:10]]}: run pybabel compile -d {rel(po_path.parents[2])}"
    )


def test_the_app_shows_every_catalogue_in_chinese(po_path: Path) -> None:
    app = Flask(__name__)  # the app's catalogue folders and locale, without its database
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translation_directories()
    Babel(app, locale_selector=lambda: "zh_CN")
    untranslated = []
    with app.test_request_context("/"):
        translations = get_translations()
        for message in entries(load_po(po_path)):
            if isinstance(message.id, str):
                english = message.id
                shown = (translations.pgettext(message.context, english) if message.context
                         else translations.gettext(english))
            else:
                singular, english = message.id[:2]
                shown = (translations.npgettext(message.context, singular, english, 2)
                         if message.context else translations.ngettext(singular, english, 2))
            if shown == english != strings(message)[-1]:
                untranslated.append(label(message))
    assert not untranslated, (
        f"{rel(po_path)}: the app shows {len(untranslated)} message(s) in English, e.g. "
        f"{untranslated[:5]}: is {rel(po_path.with_suffix('.mo'))} compiled?"
    )


def test_no_catalogue_folder_is_named_after_the_full_locale() -> None:
    # gettext looks for zh_Hans_CN and zh (Babel's name for zh_CN and its fallback), never zh_CN:
    # a catalogue in a zh_CN folder is silently ignored and the app shows English.
    wrong = sorted(
        p for name in ("zh_CN", "zh_Hans_CN")
        for p in (ROOT / "trainer").glob(f"**/translations/{name}")
    )
    assert not wrong, "\n".join(
        [f"Catalogue folders must be named zh (Flask-Babel never loads these): {[rel(p) for p in wrong]}"]
        + [f"    git mv {rel(p.parent)}/zh_CN {rel(p.parent)}/zh" if p.name == "zh_CN"
           else f"    git rm {rel(p)}   (a zh_Hans_CN link or copy; the catalogue goes in zh)"
           for p in wrong]
    )


def test_the_app_shows_chinese_to_a_chinese_browser(tmp_path: Path) -> None:
    config = base_config("sqlite:///:memory:", tmp_path / "media")
    app = create_app(config)
    response = app.test_client().get("/login", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "登录" in page, (
        "/login with Accept-Language: zh-CN is not in Chinese: Flask-Babel found no catalogue. "
        "It looks for <dir>/zh/LC_MESSAGES/messages.mo in every trainer/**/translations folder; "
        "if yours is in zh_CN: git mv <dir>/zh_CN <dir>/zh, then pybabel compile -d <dir>."
    )


def extract_foundation() -> dict[tuple[str, str | None], set[str]]:
    """msgid -> files, extracted in-process with babel.cfg's method map and keywords."""
    methods, options = update.method_map()
    found: dict[tuple[str, str | None], set[str]] = {}
    for filename in update.foundation_files():
        for _file, _lineno, message, _comments, context in check_and_call_extract_file(
            ROOT / filename, methods, options, callback=None, keywords=DEFAULT_KEYWORDS,
            comment_tags=(), strip_comment_tags=False, dirpath=ROOT,
        ):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                found.setdefault((msgid, context), set()).add(filename)
    return found


def test_foundation_catalogue_has_every_extracted_string() -> None:
    files = update.foundation_files()
    assert any(f.endswith(".py") for f in files) and any(f.endswith(".html") for f in files), (
        f"babel.cfg maps no Python or no template file under trainer/: {files}"
    )
    extracted = extract_foundation()
    assert len(extracted) > 50, "Babel extracted almost nothing: is babel.cfg right?"
    catalogue = {key(m) for m in entries(load_po(FOUNDATION_PO))}
    missing = sorted(k for k in extracted if k not in catalogue)
    listing = "\n".join(
        f"    {msgid!r}" + (f" (context {context!r})" if context else "")
        + f"  [{', '.join(sorted(extracted[(msgid, context)]))}]"
        for msgid, context in missing
    )
    assert not missing, (
        f"{len(missing)} string(s) in the code are not in {rel(FOUNDATION_PO)}:\n{listing}\n{HOW_TO_FIX}"
    )


def test_area_packages_are_left_to_their_own_catalogues() -> None:
    files = update.foundation_files()
    for area in update.area_packages():
        prefix = rel(area) + "/"
        assert not [f for f in files if f.startswith(prefix)], f"{prefix} leaked into the foundation"
