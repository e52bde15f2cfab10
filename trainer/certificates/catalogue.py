"""The certificate catalogue as seeded: special operation types (SAWS Order No. 30, appendix
catalogue), ``PM`` and ``SM``.

Every number is data that admins edit afterwards (docs/domain.md). Initial hours of special
operations come from each type's national training outline and are left for admins to enter
(None = no hours check); review needs 8 class hours. PM/SM: valid 3 years, initial 32 hours,
yearly refresher 12 (high-risk industries 48/16: set per type by admins).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SPECIAL_OPERATIONS = [
    ("1.1", "高压电工作业", "High-voltage electrical work"),
    ("1.2", "低压电工作业", "Low-voltage electrical work"),
    ("1.3", "防爆电气作业", "Explosion-proof electrical work"),
    ("2.1", "熔化焊接与热切割作业", "Fusion welding and thermal cutting"),
    ("2.2", "压力焊作业", "Pressure welding"),
    ("2.3", "钎焊作业", "Brazing and soldering"),
    ("3.1", "登高架设作业", "Scaffolding erection at height"),
    ("3.2", "高处安装、维护、拆除作业", "Installation, maintenance and dismantling at height"),
    ("4.1", "制冷与空调设备运行操作作业", "Refrigeration and air-conditioning operation"),
    ("4.2", "制冷与空调设备安装修理作业", "Refrigeration and air-conditioning installation and repair"),
    ("5.1", "煤矿井下电气作业", "Coal mine underground electrical work"),
    ("5.2", "煤矿井下爆破作业", "Coal mine underground blasting"),
    ("5.3", "煤矿安全监测监控作业", "Coal mine safety monitoring"),
    ("5.4", "煤矿瓦斯检查作业", "Coal mine gas inspection"),
    ("5.5", "煤矿安全检查作业", "Coal mine safety inspection"),
    ("5.6", "煤矿提升机操作作业", "Coal mine hoist operation"),
    ("5.7", "煤矿采煤机（掘进机）操作作业", "Coal mine shearer (roadheader) operation"),
    ("5.8", "煤矿瓦斯抽采作业", "Coal mine gas drainage"),
    ("5.9", "煤矿防突作业", "Coal mine outburst prevention"),
    ("5.10", "煤矿探放水作业", "Coal mine water exploration and drainage"),
    ("6.1", "金属非金属矿井通风作业", "Metal and non-metal mine ventilation"),
    ("6.2", "尾矿作业", "Tailings work"),
    ("6.3", "金属非金属矿山安全检查作业", "Metal and non-metal mine safety inspection"),
    ("6.4", "金属非金属矿山提升机操作作业", "Metal and non-metal mine hoist operation"),
    ("6.5", "金属非金属矿山支柱作业", "Metal and non-metal mine propping"),
    ("6.6", "金属非金属矿山井下电气作业", "Metal and non-metal mine underground electrical work"),
    ("6.7", "金属非金属矿山排水作业", "Metal and non-metal mine drainage"),
    ("6.8", "金属非金属矿山爆破作业", "Metal and non-metal mine blasting"),
    ("7.1", "司钻作业", "Drilling (driller)"),
    ("8.1", "煤气作业", "Coal gas work (metallurgy)"),
    ("9.1", "光气及光气化工艺作业", "Phosgene and phosgenation process"),
    ("9.2", "氯碱电解工艺作业", "Chlor-alkali electrolysis process"),
    ("9.3", "氯化工艺作业", "Chlorination process"),
    ("9.4", "硝化工艺作业", "Nitration process"),
    ("9.5", "合成氨工艺作业", "Ammonia synthesis process"),
    ("9.6", "裂解（裂化）工艺作业", "Cracking process"),
    ("9.7", "氟化工艺作业", "Fluorination process"),
    ("9.8", "加氢工艺作业", "Hydrogenation process"),
    ("9.9", "重氮化工艺作业", "Diazotization process"),
    ("9.10", "氧化工艺作业", "Oxidation process"),
    ("9.11", "过氧化工艺作业", "Peroxidation process"),
    ("9.12", "胺基化工艺作业", "Amination process"),
    ("9.13", "磺化工艺作业", "Sulfonation process"),
    ("9.14", "聚合工艺作业", "Polymerization process"),
    ("9.15", "烷基化工艺作业", "Alkylation process"),
    ("9.16", "化工自动化控制仪表作业", "Chemical process automation and instrumentation"),
    ("10.1", "烟火药制造作业", "Pyrotechnic composition manufacturing"),
    ("10.2", "黑火药制造作业", "Black powder manufacturing"),
    ("10.3", "引火线制造作业", "Fuse manufacturing"),
    ("10.4", "烟花爆竹产品涉药作业", "Fireworks work involving pyrotechnic compositions"),
    ("10.5", "烟花爆竹储存作业", "Fireworks storage"),
]


def catalogue_rows() -> list[dict[str, Any]]:
    rows = [
        dict(code=code, family="special_operation", name_zh=zh, name_en=en,
             validity_years=6, review_interval_years=3, renewal_window_days=60,
             initial_hours=None, review_hours=Decimal("8"), course_key=None, exam_key=None,
             active=True)
        for code, zh, en in SPECIAL_OPERATIONS
    ]
    rows.append(dict(code="PM", family="principal", name_zh="主要负责人",
                     name_en="Principal person in charge", validity_years=3,
                     review_interval_years=None, renewal_window_days=60,
                     initial_hours=Decimal("32"), review_hours=Decimal("12"),
                     course_key=None, exam_key=None, active=True))
    rows.append(dict(code="SM", family="safety_management", name_zh="安全生产管理人员",
                     name_en="Safety management personnel", validity_years=3,
                     review_interval_years=None, renewal_window_days=60,
                     initial_hours=Decimal("32"), review_hours=Decimal("12"),
                     course_key=None, exam_key=None, active=True))
    return rows
