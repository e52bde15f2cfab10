"""The verification QR code (segno, SVG) and the printable certificate (fpdf2, A5 landscape).

Chinese text needs a CJK font: Noto Sans CJK from Debian's fonts-noto-cjk
(``TRAINER_CJK_FONT`` overrides the path). Without it the PDF is still produced, with the
built-in Helvetica, Latin text only (Chinese names are replaced by the transliteration-free
placeholder "?"), and a note saying so.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import segno

from trainer.certificates.models import Certificate

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
# Index of Simplified Chinese in the Noto CJK collection (JP, KR, SC, TC, HK).
NOTO_SC_INDEX = 2


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=4, border=2,
                                                   xmldecl=False, svgns=True)
    return out.getvalue()


def cjk_font() -> Path | None:
    configured = os.environ.get("TRAINER_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(CJK_FONT_CANDIDATES):
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def _draw_qr(pdf: Any, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    modules = len(matrix)
    cell = size / modules
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + c * cell, y + r * cell, cell, cell, style="F")


def certificate_pdf(cert: Certificate, url: str, status: str, locale: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format=(148, 210))  # A5
    pdf.set_auto_page_break(False)
    pdf.add_page()
    font = cjk_font()
    if font is not None:
        index = NOTO_SC_INDEX if font.suffix == ".ttc" and "Noto" in font.name else 0
        pdf.add_font("cjk", fname=str(font), collection_font_number=index)
        family = "cjk"
    else:
        family = "helvetica"

    def text(value: str) -> str:
        if font is not None:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(1.2)
    pdf.rect(6, 6, 198, 136)
    pdf.set_font(family, size=20)
    pdf.set_xy(10, 14)
    title = {"special_operation": "特种作业操作证 Special Operation Certificate",
             "principal": "安全生产知识和管理能力考核合格证 (主要负责人)",
             "safety_management": "安全生产知识和管理能力考核合格证 (安全生产管理人员)"}
    pdf.cell(w=190, h=10, text=text(title.get(cert.type.family, "Certificate")), align="C")
    pdf.set_font(family, size=12)
    rows = [
        ("证书编号 Number", cert.number),
        ("姓名 Name", cert.holder_name),
        ("身份证号 ID number", cert.masked_id_number),
        ("作业类别 Type", f"{cert.type_code} {cert.type.name_zh} / {cert.type.name_en}"),
        ("发证地区 Region", cert.region_code),
        ("初领日期 Issued", cert.issued_on.isoformat()),
        ("有效期至 Valid until", cert.expires_on.isoformat()),
        ("应复审日期 Review due", cert.review_due_on.isoformat() if cert.review_due_on else "—"),
    ]
    y = 34.0
    for label, value in rows:
        pdf.set_xy(14, y)
        pdf.set_text_color(87, 96, 106)
        pdf.cell(w=48, h=8, text=text(label))
        pdf.set_text_color(27, 31, 36)
        pdf.multi_cell(w=96, h=8, text=text(value))
        y += 11
    _draw_qr(pdf, url, 160, 40, 36)
    pdf.set_font(family, size=8)
    pdf.set_xy(148, 78)
    pdf.multi_cell(w=60, h=4.5, text=text("扫码查验实时状态\nScan to verify the live status"),
                   align="C")
    pdf.set_xy(14, 126)
    pdf.set_font(family, size=8)
    note = "" if font is not None else " (CJK font not installed: Chinese text omitted)"
    pdf.cell(w=180, h=5, text=text(url + note))
    return bytes(pdf.output())
