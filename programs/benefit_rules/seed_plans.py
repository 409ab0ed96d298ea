"""The four seed contracts' rules (DOMAIN.md §4.1–4.4) in their stored dict form.

`SEED_PLAN_DICTS` is what a data migration writes to the database; `seed_plans()` parses them
with `plan_from_dict`, exactly as plans loaded from the database will be.
"""

from __future__ import annotations

from typing import Any

from .plan import Plan
from .plan_dict import plan_from_dict


def _bands(*pairs: tuple[str | None, str]) -> list[dict[str, Any]]:
    return [{"upto": upto, "rate": rate} for upto, rate in pairs]


# Tongliao critical-illness bands: boundaries 30,000 / 50,000 / 80,000 on the cumulative base.
_TL_FULL_ORDINARY = _bands(("30000", "0.60"), ("50000", "0.70"), ("80000", "0.80"), (None, "0.90"))
_TL_FULL_SPECIAL = _bands(("30000", "0.65"), ("50000", "0.75"), ("80000", "0.85"), (None, "0.95"))
# Out of region, discharged 2025-01-01 … 2025-06-30.
_TL_H1_ORDINARY = _bands(("30000", "0.60"), ("50000", "0.65"), ("80000", "0.75"), (None, "0.85"))
_TL_H1_SPECIAL = _bands(("30000", "0.65"), ("50000", "0.70"), ("80000", "0.80"), (None, "0.90"))

TONGLIAO_2025: dict[str, Any] = {
    "code": "tongliao-2025",
    "name": "通辽市城乡居民大病保险及意外伤害保险 2025",
    "year": 2025,
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "places": ["in_region", "out_of_region"],
    "liabilities": [
        {
            "code": "critical_illness",
            "name": "大病保险",
            "claim_kinds": ["inpatient", "special_outpatient", "accident_inpatient"],
            "base": [["+", "inscp_scp_amt"], ["-", "hifp_pay"]],
            "schedule": [
                {"when": {"category": ["ordinary"], "place": ["in_region"]},
                 "deductible": "14000", "bands": _TL_FULL_ORDINARY},
                {"when": {"category": ["ordinary"], "place": ["out_of_region"], "enddate_from": "2025-07-01"},
                 "deductible": "14000", "bands": _TL_FULL_ORDINARY},
                {"when": {"category": ["ordinary"], "place": ["out_of_region"], "enddate_to": "2025-06-30"},
                 "deductible": "14000", "bands": _TL_H1_ORDINARY},
                {"when": {"category": ["special"], "place": ["in_region"]},
                 "deductible": "7000", "bands": _TL_FULL_SPECIAL},
                {"when": {"category": ["special"], "place": ["out_of_region"], "enddate_from": "2025-07-01"},
                 "deductible": "7000", "bands": _TL_FULL_SPECIAL},
                {"when": {"category": ["special"], "place": ["out_of_region"], "enddate_to": "2025-06-30"},
                 "deductible": "7000", "bands": _TL_H1_SPECIAL},
            ],
            "caps": [
                {"when": {"category": ["ordinary"]}, "amount": "380000"},
                {"when": {"category": ["special"]}, "amount": None},
            ],
        },
        {
            "code": "accident_basic",
            "name": "意外伤害住院（基本医疗保险部分）",
            "claim_kinds": ["accident_inpatient"],
            "base": [["+", "hifp_pay"]],
            "schedule": [{"deductible": "0", "bands": _bands((None, "1.00"))}],
            "caps": [{"amount": "120000"}],
        },
        {
            "code": "student_accident_outpatient",
            "name": "学生意外伤害门诊",
            "claim_kinds": ["student_accident_outpatient"],
            "eligibility": {"student": True},
            "base": [["+", "inscp_scp_amt"]],
            "schedule": [{"deductible": "0", "bands": _bands((None, "0.75"))}],
            "caps": [{"amount": "2000"}],
        },
    ],
}

TAIKANG_2025: dict[str, Any] = {
    "code": "taikang-2025",
    "name": "太康县城镇职工大额补充医疗保险 2025",
    "year": 2025,
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "places": ["local", "province_referral", "out_of_province_referral", "remote_resident"],
    "liabilities": [
        {
            "code": "supplementary",
            "name": "大额补充医疗保险",
            "claim_kinds": ["inpatient", "special_outpatient"],
            # The basic fund's annual maximum (80,000 paid) is the supplement's 起付线: the base
            # is the policy-scope cost beyond it, with no further deductible.
            "base": [["+", "over_cap_amt"]],
            "schedule": [
                # First match wins: 3A hospitals (5 points lower) before the local rates.
                {"when": {"place": ["local"], "hosp_lv": ["3A"], "employment": ["active"]},
                 "deductible": "0", "bands": _bands((None, "0.80"))},
                {"when": {"place": ["local"], "hosp_lv": ["3A"], "employment": ["retired"]},
                 "deductible": "0", "bands": _bands((None, "0.85"))},
                {"when": {"place": ["local"], "employment": ["active"]},
                 "deductible": "0", "bands": _bands((None, "0.85"))},
                {"when": {"place": ["local"], "employment": ["retired"]},
                 "deductible": "0", "bands": _bands((None, "0.90"))},
                {"when": {"place": ["province_referral"], "employment": ["active"]},
                 "deductible": "0", "bands": _bands((None, "0.80"))},
                {"when": {"place": ["province_referral"], "employment": ["retired"]},
                 "deductible": "0", "bands": _bands((None, "0.85"))},
                {"when": {"place": ["out_of_province_referral"], "employment": ["active"]},
                 "deductible": "0", "bands": _bands((None, "0.75"))},
                {"when": {"place": ["out_of_province_referral"], "employment": ["retired"]},
                 "deductible": "0", "bands": _bands((None, "0.80"))},
                # Remote residence is a retirees' status: no row for active employees.
                {"when": {"place": ["remote_resident"], "employment": ["retired"]},
                 "deductible": "0", "bands": _bands((None, "0.85"))},
            ],
            "caps": [{"amount": "470000"}],
        },
    ],
}

ZHENPING_2026: dict[str, Any] = {
    "code": "zhenping-2026",
    "name": "镇平县城镇职工大额医疗费用补助保险 2026",
    "year": 2026,
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "liabilities": [
        {
            "code": "supplementary",
            "name": "大额医疗费用补助",
            "claim_kinds": ["inpatient", "special_outpatient"],
            "base": [["+", "over_cap_amt"]],
            "schedule": [{"deductible": "0", "bands": _bands((None, "0.90"))}],
            "caps": [{"amount": "540000"}],
        },
    ],
}

_BJ_HEALTHY = {"health": ["healthy"]}
_BJ_PREEXISTING = {"health": ["preexisting"]}

BEIJING_CHAOYANG_2026: dict[str, Any] = {
    "code": "beijing-chaoyang-2026",
    "name": "朝阳区统一投保北京普惠健康保 2026",
    "year": 2026,
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "parameters": [
        {"name": "beijing_ci_deductible", "value": "30404",
         "description": "当年北京市基本医疗大病保险起付标准（城市调整时同步修改）"},
    ],
    "liabilities": [
        {
            "code": "in_catalog",
            "name": "医保内责任",
            "claim_kinds": ["inpatient", "outpatient", "special_outpatient"],
            "base": [["+", "inscp_scp_amt"], ["+", "preselfpay_amt"], ["-", "hifp_pay"], ["-", "hifmi_pay"]],
            "schedule": [
                {"when": _BJ_HEALTHY, "deductible": "15000",
                 "bands": [{"upto": {"param": "beijing_ci_deductible"}, "rate": "0.25"},
                           {"upto": None, "rate": "0.80"}]},
                {"when": _BJ_PREEXISTING, "deductible": {"param": "beijing_ci_deductible"},
                 "bands": _bands((None, "0.40"))},
            ],
            "caps": [{"amount": "1000000"}],
        },
        {
            "code": "out_of_catalog",
            "name": "医保外责任",
            "claim_kinds": ["inpatient"],
            "eligibility": {"hosp_lv": ["2", "3", "3A"]},
            "base": [["+", "fulamt_ownpay_amt"]],
            "schedule": [
                {"when": {**_BJ_HEALTHY, "continuous_no_claim_3y": True},
                 "deductible": "5000", "bands": _bands((None, "0.70"))},
                {"when": {**_BJ_PREEXISTING, "continuous_no_claim_3y": True},
                 "deductible": "15000", "bands": _bands((None, "0.35"))},
                {"when": _BJ_HEALTHY, "deductible": "15000", "bands": _bands((None, "0.70"))},
                {"when": _BJ_PREEXISTING, "deductible": "20000", "bands": _bands((None, "0.35"))},
            ],
            "caps": [{"amount": "1000000"}],
            "item_caps": [{"type": "drug", "amount": "300000"}, {"type": "implant", "amount": "100000"}],
        },
        {
            "code": "special_drug_1",
            "name": "特药1责任",
            "claim_kinds": ["special_drug"],
            "eligibility": {"designated": True, "drug_list": ["sd1_domestic", "sd1_overseas"]},
            "base": [["+", "drug_amount"]],
            "schedule": [
                {"when": _BJ_HEALTHY, "deductible": "0", "bands": _bands((None, "0.65"))},
                {"when": _BJ_PREEXISTING, "deductible": "0", "bands": _bands((None, "0.35"))},
            ],
            "caps": [{"amount": "1000000"}],
        },
        {
            "code": "special_drug_2",
            "name": "特药2责任",
            "claim_kinds": ["special_drug"],
            "eligibility": {"designated": True, "drug_list": ["sd2"]},
            "base": [["+", "drug_amount"]],
            "schedule": [
                {"when": _BJ_HEALTHY, "deductible": "0", "bands": _bands((None, "0.65"))},
                {"when": _BJ_PREEXISTING, "deductible": "0", "bands": _bands((None, "0.35"))},
            ],
            "caps": [{"amount": "500000"}],
        },
    ],
    "shared_caps": [
        {"code": "special_drug_1_domestic", "name": "国内特药", "liabilities": ["special_drug_1"],
         "when": {"drug_list": ["sd1_domestic"]}, "amount": "500000"},
        {"code": "special_drug_1_overseas", "name": "海外特药（博鳌乐城）", "liabilities": ["special_drug_1"],
         "when": {"drug_list": ["sd1_overseas"]}, "amount": "500000"},
        {"code": "total", "name": "合计保险金额",
         "liabilities": ["in_catalog", "out_of_catalog", "special_drug_1", "special_drug_2"], "amount": "3500000"},
    ],
}

SEED_PLAN_DICTS: dict[str, dict[str, Any]] = {
    d["code"]: d for d in (TONGLIAO_2025, TAIKANG_2025, ZHENPING_2026, BEIJING_CHAOYANG_2026)
}


def seed_plans() -> dict[str, Plan]:
    """The four seed plans by code, parsed from their dict form."""
    return {code: plan_from_dict(data) for code, data in SEED_PLAN_DICTS.items()}
