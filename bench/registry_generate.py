"""Generate the Tongliao enrollment list for the registry benchmarks (GBK CSV).

    .venv/bin/python bench/registry_generate.py var/bench/tongliao.csv                 # 2,217,285 rows
    .venv/bin/python bench/registry_generate.py var/bench/tongliao-nov.csv --changes 0.01 --exits 0.005

Rows are deterministic: row i is always the same person (valid GB 11643 ID number with the
county's division code, birth date and sex agreeing with it, unique psn_no), spread over the
9 Tongliao county-level areas. 1 % of rows are bad, mixed: wrong check digit, birth date in
the future, birth date not matching the ID, unknown sex code, unknown area, unknown category,
a duplicate of an earlier row. `--changes` gives that share of persons another category,
employment or area (a later list); `--exits` leaves that share out (they left the scheme).
"""

import argparse
import csv
import datetime as dt
import random
import sys
from pathlib import Path

ROWS = 2_217_285
COUNTIES = ["150502", "150581", "150523", "150524", "150525", "150526", "150521", "150522", "150571"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤包"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍建华红梅宝山其其格巴特尔乌云斯琴图雅那仁"
BASE = dt.date(1935, 1, 1)
HEADER = ["psn_no", "certno", "psn_name", "gend", "brdy", "admdvs", "psn_type", "emp_type",
          "psn_insu_stas", "begndate", "enddate"]


def certno(area: str, birth: dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def person(i: int) -> list[str]:
    area = COUNTIES[i % 9]
    j = i // 9
    birth = BASE + dt.timedelta(days=j % 32000)
    seq = j // 32000 + 1 + 10 * (i % 7)
    c = certno(area, birth, seq)
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + (GIVEN[(i // 13) % len(GIVEN)] if i % 3 else "")
    category = "特困" if i % 41 == 0 else ("低保" if i % 53 == 0 else "普通")
    employment = "退休" if i % 5 == 0 else "在职"
    return [f"15050{i:09d}", c, name, "1" if int(c[16]) % 2 else "2", birth.isoformat(), area,
            category, employment, "1", "2025-01-01", ""]


def spoil(row: list[str], kind: int, rng: random.Random, previous: list[str] | None) -> list[str]:
    row = list(row)
    if kind == 0:
        wrong = CHECK[(CHECK.index(row[1][17]) + 1) % 11]
        row[1] = row[1][:17] + wrong
    elif kind == 1:
        row[4] = "2031-02-03"
    elif kind == 2:
        row[4] = "1901-01-01"
    elif kind == 3:
        row[3] = "9"
    elif kind == 4:
        row[5] = "150599"
    elif kind == 5:
        row[6] = "未知类别"
    elif kind == 6 and previous is not None:
        return list(previous)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--bad", type=float, default=0.01)
    ap.add_argument("--changes", type=float, default=0.0)
    ap.add_argument("--exits", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    Path(args.path).parent.mkdir(parents=True, exist_ok=True)
    bad_every = round(1 / args.bad) if args.bad else 0
    change_rng, exit_rng = random.Random(args.seed + 1), random.Random(args.seed + 2)
    written = bad = changed = exited = 0
    previous = None
    with open(args.path, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(HEADER)
        for i in range(args.rows):
            row = person(i)
            if bad_every and i % bad_every == 17:
                row = spoil(row, (i // bad_every) % 7, rng, previous)
                bad += 1
            else:
                if args.exits and exit_rng.random() < args.exits:
                    exited += 1
                    continue
                if args.changes and change_rng.random() < args.changes:
                    changed += 1
                    what = i % 3
                    if what == 0:
                        row[6] = "普通" if row[6] != "普通" else "返贫致贫"
                    elif what == 1:
                        row[7] = "退休" if row[7] == "在职" else "在职"
                    else:
                        row[5] = COUNTIES[(COUNTIES.index(row[5]) + 1) % 9]
                previous = row
            w.writerow(row)
            written += 1
    print(f"{args.path}: {written:,} rows ({bad:,} bad, {changed:,} changed, {exited:,} left out)", file=sys.stderr)


if __name__ == "__main__":
    main()
