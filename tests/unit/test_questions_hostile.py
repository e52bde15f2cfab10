"""Hostile and broken uploads: every one gives a clear error, none raises.

Big inputs are generated into tmp_path or memory here; nothing big is committed.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.questions.exporters import make_template
from trainer.questions.importers import IMPORTERS, ImportLimits, ParseResult, parse
from trainer.questions.importers.limits import check_xlsx_archive
from trainer.xlsx_reader import XlsxUnreadable, read_first_sheet

FIXTURES = Path(__file__).parents[1] / "fixtures" / "questions"
FORMATS = sorted(IMPORTERS)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<quiz><question type="truefalse"><questiontext><text>&lol9;</text></questiontext></question></quiz>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<quiz><question type="truefalse"><questiontext><text>&xxe;</text></questiontext>
<answer fraction="100"><text>true</text></answer></question></quiz>
"""


GENERIC_FAILURE = "The file could not be read. Check"


def no_crash(result: ParseResult) -> ParseResult:
    """The catch-all in parse() hides bugs from users; tests must never reach it."""
    assert not any(GENERIC_FAILURE in str(e.reason) for e in result.errors), result.errors
    return result


def only_error(result_errors: list) -> str:  # type: ignore[type-arg]
    assert len(result_errors) == 1, [str(e) for e in result_errors]
    return str(result_errors[0].reason)


def rebuild_xlsx(
    source: bytes,
    replace: dict[str, bytes],
    add: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", compression) as new:
        for entry in old.infolist():
            new.writestr(entry.filename, replace.get(entry.filename, old.read(entry.filename)))
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return out.getvalue()


def test_billion_laughs_xml_is_refused() -> None:
    result = parse(BILLION_LAUGHS, "lol.xml")
    assert result.format == "moodle-xml"
    assert "DTD or entities" in only_error(result.errors)


def test_external_entity_is_refused_and_not_read() -> None:
    result = parse(XXE, "xxe.xml")
    assert "DTD or entities" in only_error(result.errors)
    assert result.questions == []


def test_billion_laughs_inside_xlsx_is_refused_before_openpyxl() -> None:
    template = make_template("xlsx")
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    dtd = BILLION_LAUGHS.split(b"<quiz>")[0].replace(b"lolz", b"worksheet")
    evil_sheet = dtd + sheet.replace(b"<sheetData>", b"<sheetData><!-- &lol9; -->", 1)
    evil = rebuild_xlsx(template, {"xl/worksheets/sheet1.xml": evil_sheet})
    result = parse(evil, "lol.xlsx")
    assert "DTD" in only_error(result.errors)
    # Second line of defence: the reader's own parser refuses it without the pre-scan.
    with zipfile.ZipFile(io.BytesIO(evil)) as archive, pytest.raises(XlsxUnreadable) as raised:
        list(read_first_sheet(archive, 20))
    assert raised.value.kind == "dtd"


def test_openpyxl_would_use_defusedxml_here() -> None:
    """Documents what limits.py says about openpyxl (which only writes exports now)."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is (os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True")


def test_zip_bomb_xlsx_by_total_size(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(io.BytesIO(make_template("xlsx"))) as old,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for entry in old.infolist():
            new.writestr(entry.filename, old.read(entry.filename))
        with new.open("xl/bomb.xml", "w") as part:  # 120 MB of zeros, ~120 kB compressed
            chunk = b"\0" * (1024 * 1024)
            for _ in range(120):
                part.write(chunk)
    data = bomb.read_bytes()
    assert len(data) < 1024 * 1024
    result = parse(data, "bomb.xlsx")
    assert "expands to more than 100 MB" in only_error(result.errors)


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Make the zip headers of one entry lie about its uncompressed size."""
    patched = bytearray(data)
    for signature, header_length, name_length_at, size_at in (
        (b"PK\x03\x04", 30, 26, 22),
        (b"PK\x01\x02", 46, 28, 24),
    ):
        position = patched.find(signature)
        while position != -1:
            length = int.from_bytes(
                patched[position + name_length_at : position + name_length_at + 2], "little"
            )
            start = position + header_length
            if patched[start : start + length] == name.encode():
                patched[position + size_at : position + size_at + 4] = size.to_bytes(4, "little")
            position = patched.find(signature, position + 4)
    return bytes(patched)


def test_zip_bomb_whose_headers_lie_about_its_size() -> None:
    honest = rebuild_xlsx(make_template("xlsx"), {}, {"xl/lie.xml": b" " * (30 * 1024 * 1024)})
    lying = declare_size(honest, "xl/lie.xml", 1000)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert archive.getinfo("xl/lie.xml").file_size == 1000
    assert "damaged" in only_error(parse(lying, "lie.xlsx").errors)


def test_zip_bomb_xlsx_by_ratio() -> None:
    data = rebuild_xlsx(
        make_template("xlsx"), {}, {"xl/media/zeros.bin": b"\0" * (3 * 1024 * 1024)}
    )
    assert "zip bomb" in only_error(parse(data, "ratio.xlsx").errors)


def test_zip_with_too_many_entries() -> None:
    extra = {f"xl/extra/{i}.txt": b"x" for i in range(1001)}
    data = rebuild_xlsx(make_template("xlsx"), {}, extra, compression=zipfile.ZIP_STORED)
    assert "parts" in only_error(parse(data, "many.xlsx").errors)


def test_xml_part_bigger_than_its_header_claims_is_caught() -> None:
    template = make_template("xlsx")
    tiny = check_xlsx_archive(template, ImportLimits(max_uncompressed_bytes=10_000))
    assert tiny is not None and "expands" in str(tiny)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_xlsx(cut: float) -> None:
    data = make_template("xlsx")
    result = parse(data[: int(len(data) * cut)], "cut.xlsx")
    assert result.format == "xlsx"
    assert result.errors and result.questions == []


def test_zip_that_is_not_a_workbook_and_old_xls() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert "not an Excel workbook" in only_error(parse(out.getvalue(), "a.docx").errors)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    assert ".xlsx" in only_error(parse(ole, "old.xls").errors)


def test_xlsx_with_no_rows() -> None:
    workbook = openpyxl.Workbook()
    out = io.BytesIO()
    workbook.save(out)
    assert "no header row" in only_error(parse(out.getvalue(), "empty.xlsx").errors)


def test_fifty_megabytes_of_random_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(os.urandom(50 * 1024 * 1024))
    data = garbage.read_bytes()
    assert "largest file accepted is 10 MB" in only_error(parse(data, "garbage.xlsx").errors)
    generous = ImportLimits(max_upload_bytes=64 * 1024 * 1024)
    for file_format in [None, *FORMATS]:
        result = no_crash(parse(data, "garbage.csv", format=file_format, limits=generous))
        assert result.errors and result.questions == []


@pytest.mark.parametrize("file_format", FORMATS)
def test_each_importer_survives_random_bytes(file_format: str) -> None:
    result = no_crash(parse(os.urandom(100_000), "r", format=file_format))
    assert result.errors and result.questions == []


@given(data=st.binary(max_size=2000), file_format=st.sampled_from([None, *FORMATS]))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_parse_never_raises_on_arbitrary_bytes(data: bytes, file_format: str | None) -> None:
    no_crash(parse(data, "fuzz", format=file_format))


FIXTURE_FILES = sorted(FIXTURES.iterdir())


@given(
    index=st.integers(0, len(FIXTURE_FILES) - 1),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.floats(0.05, 1.0),
)
@settings(max_examples=300, deadline=None)
def test_parse_never_raises_on_damaged_real_files(
    index: int, flips: list[tuple[float, int]], cut: float
) -> None:
    data = bytearray(FIXTURE_FILES[index].read_bytes())
    for where, value in flips:
        data[int(where * len(data))] = value
    no_crash(parse(bytes(data[: max(1, int(len(data) * cut))]), FIXTURE_FILES[index].name))


@given(
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=4)
)
@settings(max_examples=60, deadline=None)
def test_parse_never_raises_on_damaged_xlsx(flips: list[tuple[float, int]]) -> None:
    data = bytearray(make_template("xlsx"))
    for where, value in flips:
        data[int(where * len(data))] = value
    no_crash(parse(bytes(data), "damaged.xlsx"))


def test_wrong_encodings() -> None:
    text = "题型,题干,选项A,选项B,答案\n单选题,问题,甲,乙,A\n"
    utf16 = parse(text.encode("utf-16"), "u16.csv")
    assert "UTF-16" in only_error(utf16.errors)
    not_text = parse(b"type,stem,answer\n\x80\xff\xfe\x81\n", "bad.csv", format="csv")
    assert "neither UTF-8 nor GBK" in only_error(not_text.errors)
    nul = parse(b"type,stem,answer\nsingle,a\x00b,A\n", "nul.csv")
    assert "binary" in only_error(nul.errors)
    traditional = "題型,題幹,選項A,選項B,答案\n單選題,問題,甲,乙,A\n"
    big5 = parse(traditional.encode("big5"), "big5.csv", format="csv")  # read as GBK: mojibake
    assert [e.field for e in big5.errors] == ["header"]


def test_deeply_nested_json() -> None:
    result = parse(b"[" * 200_000 + b"]" * 200_000, "deep.json")
    assert result.format == "json"
    assert "nested too deeply" in only_error(result.errors)


def test_empty_file_and_non_bytes() -> None:
    assert "empty" in only_error(parse(b"", "empty.csv").errors)
    assert only_error(parse("not bytes", "x.csv").errors)  # type: ignore[arg-type]


def test_unknown_format_override() -> None:
    assert "Unknown file format" in only_error(parse(b"x", "x", format="docx").errors)


def test_unknown_xml_encoding_is_a_clear_error() -> None:
    data = b'<?xml version="1.0" encoding="UTA-8"?><quiz></quiz>'
    message = only_error(no_crash(parse(data, "bad-encoding.xml")).errors)
    assert "encoding" in message and "UTF-8" in message
