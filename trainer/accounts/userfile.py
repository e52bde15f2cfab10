"""The bulk user file: CSV or XLSX, Chinese or English headers, one user per row."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from trainer.accounts.services import RowError, UserInput
from trainer.uploads import UploadError, map_columns, read_table

COLUMNS: dict[str, set[str]] = {
    "name": {"name", "姓名"},
    "phone": {"phone", "mobile", "手机", "手机号", "手机号码"},
    "username": {"username", "用户名"},
    "role": {"role", "角色"},
    "national_id": {"national_id", "id_number", "身份证号", "身份证号码", "身份证"},
    "employer": {"employer", "单位", "工作单位", "企业"},
    "password": {"password", "初始密码", "密码"},
}
TEMPLATE_HEADER_ZH = ["姓名", "手机号", "用户名", "角色", "身份证号", "单位", "初始密码"]
TEMPLATE_HEADER_EN = ["name", "phone", "username", "role", "national_id", "employer", "password"]


def parse_user_file(data: bytes, filename: str) -> tuple[list[tuple[int, UserInput]], list[RowError]]:
    try:
        table = read_table(data, filename, max_rows=20_000)
    except UploadError as exc:
        return [], [RowError(0, "file", exc.message)]
    columns = map_columns(table.header, COLUMNS)
    if "name" not in columns:
        return [], [RowError(1, "header", _l(
            "The first row must name the columns; a 'name' (姓名) column is required. "
            "Download the template to see the layout."))]
    rows = []
    for number, cells in table.rows:
        def get(key: str, cells: list[str] = cells) -> str:
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else ""

        rows.append((number, UserInput(
            name=get("name"), role=get("role") or "worker", username=get("username"),
            phone=get("phone"), national_id=get("national_id"), employer=get("employer"),
            password=get("password"),
        )))
    return rows, []
