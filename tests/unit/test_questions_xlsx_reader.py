"""The XLSX reader on hand-made workbooks shaped like Excel's and WPS's own files.

openpyxl writes inline strings; Excel and WPS write shared strings, rich-text runs, phonetic
guides, prefixed (Strict) element names and sheets whose file names do not follow tab order.
"""

from __future__ import annotations

import io
import zipfile

from trainer.questions.importers import parse
from trainer.xlsx_reader import read_first_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook(
    sheets: dict[str, str],
    shared: str | None = None,
    order: list[str] | None = None,
    prefix: str = "",
) -> bytes:
    """A minimal workbook; ``sheets`` maps part file names to sheetData XML."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    names = order or list(sheets)
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"/>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<{p}workbook {xmlns} xmlns:r="{REL}"><{p}sheets>'
        + "".join(
            f'<{p}sheet name="S{i}" sheetId="{i + 1}" r:id="rS{name}"/>'
            for i, name in enumerate(names)
        )
        + f"</{p}sheets></{p}workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">'
        + "".join(
            f'<Relationship Id="rS{name}" Type="{REL}/worksheet" Target="worksheets/{name}"/>'
            for name in sheets
        )
        + (
            f'<Relationship Id="rSS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared is not None
            else ""
        )
        + "</Relationships>",
    }
    for name, data in sheets.items():
        parts[f"xl/worksheets/{name}"] = (
            f"<{p}worksheet {xmlns}><{p}sheetData>{data}</{p}sheetData></{p}worksheet>"
        )
    if shared is not None:
        parts["xl/sharedStrings.xml"] = f"<{p}sst {xmlns}>{shared}</{p}sst>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def rows_of(data: bytes) -> list[tuple[int, list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(read_first_sheet(archive, 20))


HEADER = ["题型", "题干", "选项A", "选项B", "答案", "难度"]


def shared_strings(*texts: str) -> str:
    return "".join(f"<si><t>{t}</t></si>" for t in texts)


def test_excel_style_shared_strings_numbers_and_booleans() -> None:
    shared = shared_strings(*HEADER, "单选题", "问题一", "甲", "乙", "判断题", "问题二")
    sheet = (
        '<row r="1">'
        + "".join(f'<c r="{col}1" t="s"><v>{i}</v></c>' for i, col in enumerate("ABCDEF"))
        + "</row>"
        '<row r="3"><c r="A3" t="s"><v>6</v></c><c r="B3" t="s"><v>7</v></c>'
        '<c r="C3" t="s"><v>8</v></c><c r="D3" t="s"><v>9</v></c>'
        '<c r="E3" t="str"><f>"B"</f><v>B</v></c><c r="F3"><v>2.0</v></c></row>'
        '<row r="7"><c r="A7" t="s"><v>10</v></c><c r="B7" t="s"><v>11</v></c>'
        '<c r="E7" t="b"><v>0</v></c><c r="F7" s="3"><v>3</v></c></row>'
    )
    data = workbook({"sheet1.xml": sheet}, shared)
    assert rows_of(data)[1] == (3, ["单选题", "问题一", "甲", "乙", "B", "2"])
    result = parse(data, "excel.xlsx")
    assert result.errors == []
    assert [
        (q.location.number, q.content.answer, q.content.difficulty) for q in result.questions
    ] == [
        (3, [1], "medium"),
        (7, False, "hard"),
    ]


def test_rich_text_runs_are_joined_and_phonetic_guides_dropped() -> None:
    shared = (
        '<si><r><rPr><b/></rPr><t>安全</t></r><r><t xml:space="preserve"> 帽</t></r>'
        '<rPh sb="0" eb="2"><t>アンゼン</t></rPh></si>'
    )
    sheet = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><t>a</t></r>'
    sheet += '<r><t>b</t></r></is></c><c r="C1" t="e"><v>#N/A</v></c></row>'
    assert rows_of(workbook({"sheet1.xml": sheet}, shared)) == [(1, ["安全 帽", "ab", "#N/A"])]


def test_prefixed_names_missing_references_and_tab_order() -> None:
    first = '<x:row><x:c t="inlineStr"><x:is><x:t>first tab</x:t></x:is></x:c>'
    first += '<x:c><x:v>5</x:v></x:c></x:row><x:row><x:c r="C9"><x:v>1.5</x:v></x:c></x:row>'
    other = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
    data = workbook(
        {"sheet1.xml": other, "sheet2.xml": first},
        order=["sheet2.xml", "sheet1.xml"],
        prefix="x",
    )
    assert rows_of(data) == [(1, ["first tab", "5"]), (2, ["", "", "1.5"])]


def test_columns_beyond_the_limit_are_ignored() -> None:
    sheet = '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'
    assert rows_of(workbook({"sheet1.xml": sheet})) == [(1, ["1"])]


def test_broken_workbooks_are_file_errors() -> None:
    bad_index = workbook({"sheet1.xml": '<row r="1"><c r="A1" t="s"><v>9</v></c></row>'}, "")
    no_sheets = workbook({})
    broken_xml = workbook({"sheet1.xml": '<row r="1"><c r="A1"><v>1</v></row>'})
    for data, reason in (
        (bad_index, "damaged"),
        (no_sheets, "no worksheet"),
        (broken_xml, "damaged"),
    ):
        result = parse(data, "broken.xlsx")
        assert len(result.errors) == 1 and reason in str(result.errors[0].reason)
