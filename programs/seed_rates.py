"""The seed contracts' per-capita premiums (筹资标准), the one source of these figures.

Plain data (no Django import), so the pure finance calculations' examples and tests read the
same figures the seeding migration writes into `programs.PremiumRate`. At run time the
per-capita premium is read from `PremiumRate` only.

Rows: (category, employment, headcount category, per-capita premium in yuan, note).
"""

from decimal import Decimal

RATES = {
    # seed 001 art. 2: 2024's standard, 114.23, provisionally for 2025
    "tongliao-2025": [("any", "any", "resident", Decimal("114.23"), "暂按2024年标准（大病保险和意外伤害）")],
    # seed 002 art. 28: financing standard 150 per person a year
    "taikang-2025": [("any", "any", "insured", Decimal("150.00"), "筹资标准每人每年150元")],
    # seed 004 art. 7: active employees 460; retirees pay nothing but are covered
    "zhenping-2026": [
        ("any", "active", "active", Decimal("460.00"), "在职人员每人460元；新增参保人员同"),
        ("any", "retired", "retired", Decimal("0.00"), "退休人员不再缴费，正常享受待遇"),
    ],
    # seed 000: 195 per person, 20,063 persons
    "beijing-chaoyang-2026": [("any", "any", "insured", Decimal("195.00"), "20063人×195元/人，据实支付")],
}


def per_capita_by_headcount_category(code: str) -> dict[str, Decimal]:
    """{headcount category: per-capita premium} of a seed contract."""
    return {key: per_capita for _category, _employment, key, per_capita, _note in RATES[code]}
