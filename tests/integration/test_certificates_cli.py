"""trainer certificates import / export / refresh, and the demo loader."""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from tests.conftest import valid_national_id
from trainer.certificates.models import Certificate, Suspension
from trainer.db import db

ID1 = valid_national_id("34010419900307001")
ID2 = valid_national_id("32010219950612002")
ID3 = valid_national_id("34010419800101123")

GOOD = (
    "number,holder_name,id_number,type_code,region_code,employer,issued_on,expires_on,"
    "review_due_on,renewal_applied_on\n"
    f"T1,Wang Worker,{ID1},1.2,340104,Acme Chemicals,2014-02-10,2020-02-10,,\n"
    f"T2,Oscar Other,{ID2},2.1,320102,Other Welding,2017/2/10,2023/2/10,2020/2/10,\n"
    f"T3,张三,{ID3},SM,340104,,2019年1月2日,2022年1月1日,,\n"
)


def count_certificates(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))


def test_import_then_reimport_changes_nothing(app, runner, people, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["certificates", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, unchanged 0" in result.output
    again = runner.invoke(args=["certificates", "import", str(path)])
    assert again.exit_code == 0 and "created 0, updated 0, unchanged 3" in again.output
    with app.app_context():
        cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == "T2"))
        assert cert.due_on == dt.date(2020, 2, 10)
        assert cert.employer_id == people["other_id"]
        assert cert.holder_user_id == people["other_worker"]
        assert cert.masked_id_number == ID2[:6] + "********" + ID2[-4:]
        t1 = db.session.scalar(sa.select(Certificate).where(Certificate.number == "T1"))
        assert t1.holder_user_id == people["worker"]
    path.write_text(GOOD.replace("2022年1月1日", "2025-01-01"), encoding="utf-8")
    changed = runner.invoke(args=["certificates", "import", str(path)])
    assert "created 0, updated 1, unchanged 2" in changed.output


def test_import_reports_row_errors_and_imports_nothing(app, runner, people, tmp_path):
    bad = GOOD + (
        f"T4,Bad,{ID1[:-1]}0,1.2,340104,,2014-02-10,2020-02-10,,\n"
        f"T5,Bad,{ID1},99.9,34,Nobody Ltd,2014-02-30,2010-02-10,,\n"
        f"T1,Dup,{ID1},1.2,340104,,2014-02-10,2020-02-10,,\n"
    )
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["certificates", "import", str(path)])
    assert result.exit_code != 0
    out = result.output
    assert "row 5, id_number: the check character is wrong" in out
    assert "row 6, type_code: '99.9' is not in the certificate catalogue" in out
    assert "row 6, region_code" in out and "row 6, employer: no employer" in out
    assert "row 6, issued_on: '2014-02-30' is not a date" in out
    assert "row 7, number: certificate T1 appears twice (also row 2)" in out
    assert "nothing was imported" in out
    assert count_certificates(app) == 0


def test_import_missing_columns_and_garbage(app, runner, people, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("number,holder_name\nX,Y\n", encoding="utf-8")
    result = runner.invoke(args=["certificates", "import", str(path)])
    assert result.exit_code != 0 and "missing column(s): id_number" in result.output
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = runner.invoke(args=["certificates", "import", str(junk)])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(GOOD.replace("number,holder_name", "证书编号,姓名").encode("gb18030"))
    result = runner.invoke(args=["certificates", "import", str(gbk)])
    assert result.exit_code == 0, result.output


def test_import_xlsx_with_chinese_headers_and_date_cells(app, runner, people, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["证书编号", "姓名", "身份证号", "作业类别", "发证地区", "单位", "发证日期",
                  "有效期至", "复审日期"])
    sheet.append(["X1", "王伟", ID1, "1.2", "340104", "Acme Chemicals",
                  dt.datetime(2014, 2, 10), dt.datetime(2020, 2, 10), None])
    sheet.append(["X2", "李娜", ID3, "10.4", 340104, None, "2019-01-02", "2025-01-02",
                  "2022-01-02"])
    path = tmp_path / "register.xlsx"
    book.save(path)
    result = runner.invoke(args=["certificates", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    with app.app_context():
        cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == "X1"))
        assert (cert.issued_on, cert.expires_on) == (dt.date(2014, 2, 10), dt.date(2020, 2, 10))
        assert db.session.scalar(
            sa.select(Certificate.due_on).where(Certificate.number == "X2")
        ) == dt.date(2022, 1, 2)


def test_export_worked_example_csv_and_xlsx(app, runner, people, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "证书编号,姓名,身份证号,作业类别,发证地区,发证日期,有效期至\n"
        f"AH,王伟,{ID1},1.2,340104,2014-02-10,2020-02-10\n"
        f"JS,王伟,{ID1},1.2,320100,2014-02-10,2020-02-10\n", encoding="utf-8")
    assert runner.invoke(args=["certificates", "import", str(path)]).exit_code == 0
    with app.app_context():
        db.session.add(Suspension(name="Anhui", start_on=dt.date(2020, 1, 24),
                                  lift_on=dt.date(2020, 2, 25), regions=["34"], types=[],
                                  effect="deemed_valid", holder_deadline="30wd",
                                  exam_deadline="60wd"))
        db.session.commit()
    refreshed = runner.invoke(args=["certificates", "refresh"])
    assert refreshed.exit_code == 0 and "timelines changed: 1" in refreshed.output
    again = runner.invoke(args=["certificates", "refresh"])
    assert "timelines changed: 0" in again.output

    out = tmp_path / "out.csv"
    result = runner.invoke(args=["certificates", "export", "--as-of", "2020-04-09",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows == [
        ["number", "status", "valid_until", "holder_deadline", "exam_deadline", "suspension"],
        ["AH", "expired", "2020-04-08", "2020-04-08", "2020-05-21", "Anhui"],
        ["JS", "expired", "2020-02-10", "", "", ""],
    ]
    stdout = runner.invoke(args=["certificates", "export", "--as-of", "2020-02-20"])
    assert "AH,deemed_valid,2020-04-08,2020-04-08,2020-05-21,Anhui" in stdout.output
    xlsx = tmp_path / "out.xlsx"
    result = runner.invoke(args=["certificates", "export", "--as-of", "2020-04-08",
                                 "--format", "xlsx", "--output", str(xlsx)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).active
    values = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[1] == ["AH", "deemed_valid", "2020-04-08", "2020-04-08", "2020-05-21", "Anhui"]
    bad = runner.invoke(args=["certificates", "export", "--as-of", "20-4-8"])
    assert bad.exit_code != 0 and "not a date" in bad.output


def test_demo_loader_is_idempotent(app, runner, people):
    from trainer.certificates import demo

    with app.app_context():
        lines = demo.load()
        assert any("demo certificates added" in line for line in lines)
        first = count_certificates(app)
        assert first > 250
        assert demo.load() == []
        assert count_certificates(app) == first
        covered = set(db.session.scalars(sa.select(Certificate.covered).distinct()))
        assert covered == {True, False}
