"""Writes the sample import files under docs/samples/ (used by the tests and shown in the README).

    .venv/bin/python scripts/make_samples.py

They fit the demo data (``manage.py seed_demo``): street 南京西路街道, its buildings and its
organization 南京西路街道楼宇联合党委. ``members-valid.xlsx`` has ten members;
``members-errors.xlsx`` the same ten with three rows wrong (an ID number's check digit,
a phone number, a joining date before the birth date); ``members-gbk.csv`` the valid
ten as Excel on Chinese Windows saves a CSV (GBK); ``buildings.xlsx`` two buildings.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "docs" / "samples"
STREET = "南京西路街道"
ORGANIZATION = "南京西路街道楼宇联合党委"
NAMES = ["王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄涛", "周婷", "吴昊", "徐丽"]


def member_rows() -> list[list[str]]:
    from members.validators import id_number_check_char

    rows = []
    for index, name in enumerate(NAMES):
        born = datetime.date(1988 + index % 7, 1 + index, 10 + index)
        first17 = f"310106{born:%Y%m%d}{700 + index:03d}"
        rows.append(
            [
                name,
                "女" if index % 2 else "男",
                born.isoformat(),
                first17 + id_number_check_char(first17),
                f"1390021{index:04d}",
                "本科" if index % 3 else "硕士研究生",
                datetime.date(born.year + 24, 7, 1).isoformat(),
                "正式党员" if index % 4 else "预备党员",
                STREET,
                ORGANIZATION,
                "",
                "否",
            ]
        )
    return rows


def with_three_errors(rows: list[list[str]]) -> list[list[str]]:
    rows = [list(row) for row in rows]
    wrong = rows[2][3]
    rows[2][3] = wrong[:17] + ("0" if wrong[17] != "0" else "1")  # check digit
    rows[5][4] = "1390021"  # a phone number too short
    rows[8][6] = "1980-01-01"  # joined before being born
    return rows


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    import django

    django.setup()
    from django.utils import translation

    from core.spreadsheets.writer import workbook_bytes
    from members.resources import PartyMemberResource

    SAMPLES.mkdir(parents=True, exist_ok=True)
    with translation.override("zh-hans"):
        headers = PartyMemberResource().headers()
    valid = member_rows()
    (SAMPLES / "members-valid.xlsx").write_bytes(workbook_bytes([("党员", headers, valid)]))
    (SAMPLES / "members-errors.xlsx").write_bytes(
        workbook_bytes([("党员", headers, with_three_errors(valid))])
    )
    lines = [",".join(headers), *(",".join(row) for row in valid)]
    (SAMPLES / "members-gbk.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    from buildings.resources import BuildingResource

    with translation.override("zh-hans"):
        building_headers = BuildingResource().headers()
    buildings = [
        [STREET, "南京西路样例大厦", "南京西路1600号", "32", "58000", "是", "样例物业", "2600"],
        [STREET, "石门二路样例中心", "石门二路100号", "12", "15000", "否", "", "420"],
    ]
    (SAMPLES / "buildings.xlsx").write_bytes(workbook_bytes([("楼宇", building_headers, buildings)]))
    print("\n".join(sorted(str(p.relative_to(ROOT)) for p in SAMPLES.iterdir())))


if __name__ == "__main__":
    main()
