"""The four seed contracts (shared/seeds, DOMAIN.md §1 and §5), present in every installation.

`load_seed(apps)` takes a model registry so the same data serves the data migration (historical
models) and the `seed_contracts` command (current models). It is idempotent: existing rows,
keyed by natural keys, are left as an administrator may have edited them.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from programs.benefit_rules.seed_plans import SEED_PLAN_DICTS

from .seed_rates import RATES

D = dt.date

AREAS = [
    # (code, name, level, parent code). Codes are GB/T 2260; 通辽经济技术开发区 has none of its
    # own and takes the 1505xx code the city's statistics use for it.
    ("150500", "通辽市", "pool", None),
    ("150502", "科尔沁区", "county", "150500"),
    ("150581", "霍林郭勒市", "county", "150500"),
    ("150523", "开鲁县", "county", "150500"),
    ("150524", "库伦旗", "county", "150500"),
    ("150525", "奈曼旗", "county", "150500"),
    ("150526", "扎鲁特旗", "county", "150500"),
    ("150521", "科尔沁左翼中旗", "county", "150500"),
    ("150522", "科尔沁左翼后旗", "county", "150500"),
    ("150571", "经济技术开发区", "county", "150500"),
    ("411600", "周口市", "pool", None),
    ("411627", "太康县", "county", "411600"),
    ("411300", "南阳市", "pool", None),
    ("411324", "镇平县", "county", "411300"),
    ("110000", "北京市", "pool", None),
    ("110105", "朝阳区", "county", "110000"),
]

PARTIES = [
    {"name": "通辽市医疗保险服务中心", "kind": "authority"},
    {"name": "中国人民财产保险股份有限公司通辽市分公司", "kind": "insurer"},
    {"name": "太康县城镇职工医疗保险中心", "kind": "authority", "address": "太康县谢安路中段路北"},
    {
        "name": "中国平安财产保险股份有限公司周口中心支公司",
        "kind": "insurer",
        "address": "周口市周口大道松花江路交叉口天明商务中心 17#9-10 层",
    },
    {"name": "镇平县医疗保险中心", "kind": "authority"},
    {"name": "中国人民财产保险股份有限公司南阳市分公司", "kind": "insurer"},
    {"name": "北京市朝阳区发展和改革委员会", "kind": "authority", "address": "北京市朝阳区京广中心商务楼9层"},
    {
        "name": "中国人民财产保险股份有限公司北京市分公司",
        "kind": "insurer",
        "address": "北京市东城区朝阳门北大街17号",
        "bank_name": "中国工商银行股份有限公司北京电信大楼支行",
        "bank_account": "0200235229023101911",
        "phone": "010-95518",
        # The service team the contract names (第三条); replacing one needs two weeks' notice.
        "contacts": [
            ("王磊", "组长（负责人）", "64637788-6608"),
            ("娄伟", "副组长", "64637788-6208"),
            ("吴晓倩", "承保A岗", "64637788-6303"),
            ("姬生朋", "承保B岗", "64637788-6502"),
            ("郑佳琪", "理赔A岗", "87021305"),
            ("徐伟", "理赔B岗", "87021314"),
        ],
    },
]

PROGRAMS = [
    ("tongliao-critical-illness", "通辽市城乡居民大病保险", "critical_illness", "150500"),
    ("taikang-supplementary", "太康县城镇职工大额补充医疗保险", "employee_supplementary", "411627"),
    ("zhenping-supplementary", "镇平县城镇职工大额医疗费用补助", "employee_supplementary", "411324"),
    ("beijing-chaoyang-puhui", "朝阳区统一投保“北京普惠健康保”", "inclusive_commercial", "110105"),
]

CONTRACTS = [
    {
        "code": "tongliao-2025",
        "program": "tongliao-critical-illness",
        "name": "通辽市2025年度城乡居民大病医疗保险服务项目协议书",
        "year": 2025,
        "period": (D(2025, 1, 1), D(2025, 12, 31)),
        "signed_on": None,  # the signature date is illegible in the scanned copy
        "service_cycle": (D(2025, 1, 1), D(2027, 12, 31)),
        "authority": "通辽市医疗保险服务中心",
        "insurer": "中国人民财产保险股份有限公司通辽市分公司",
        "headcount_provisional": 2217285,
        "headcount_provisional_date": D(2025, 4, 30),
        "headcount_final_date": D(2025, 11, 30),
        "total_premium": Decimal("253280465.55"),
        "rates": RATES["tongliao-2025"],
        "notes": "参保人数暂以2025年4月30日参保人数计算；最终以各旗县市区截止2025年11月末实际参保人数计算全年保费。"
        "服务周期2025年至2027年，三年服务周期统一清算。",
    },
    {
        "code": "taikang-2025",
        "program": "taikang-supplementary",
        "name": "太康县城镇职工大额补充医疗保险服务合同（2025年度）",
        "year": 2025,
        "period": (D(2025, 1, 1), D(2025, 12, 31)),
        "signed_on": D(2025, 1, 27),
        "service_cycle": (D(2025, 1, 1), D(2027, 12, 31)),
        "authority": "太康县城镇职工医疗保险中心",
        "insurer": "中国平安财产保险股份有限公司周口中心支公司",
        "slip_title": "周口市城镇职工大额住院医疗费用结算单",
        "rates": RATES["taikang-2025"],
        "notes": "合作期限3年，合同每年签订一次；3月、9月分两批划拨资金；周转金2025年41万元。",
    },
    {
        "code": "zhenping-2026",
        "program": "zhenping-supplementary",
        "name": "镇平县城镇职工大额医疗费用补助项目合作协议（2026年度）",
        "year": 2026,
        "period": (D(2026, 1, 1), D(2026, 12, 31)),
        "signed_on": D(2026, 2, 13),
        "service_cycle": (D(2026, 1, 1), D(2028, 12, 31)),
        "authority": "镇平县医疗保险中心",
        "insurer": "中国人民财产保险股份有限公司南阳市分公司",
        "rates": RATES["zhenping-2026"],
        "notes": "预留总保费10%作为合同保证金；跨省异地就医直接结算预付金155.31万元，2028年12月31日服务期满转回。",
    },
    {
        "code": "beijing-chaoyang-2026",
        "program": "beijing-chaoyang-puhui",
        "name": "2026年朝阳区为辖区困难群众统一投保“北京普惠健康保”项目保险服务协议",
        "year": 2026,
        "period": (D(2026, 1, 1), D(2026, 12, 31)),
        "signed_on": None,  # dated December 2025 without a day; effective 2026-01-01
        "service_cycle": (D(2026, 1, 1), D(2026, 12, 31)),
        "authority": "北京市朝阳区发展和改革委员会",
        "insurer": "中国人民财产保险股份有限公司北京市分公司",
        "headcount_provisional": 20063,
        "headcount_final": 20063,
        "total_premium": Decimal("3912285.00"),
        "rates": RATES["beijing-chaoyang-2026"],
        "notes": "费用一次支付；无重大过失可续签两次，一次一年。",
    },
]


def _audited_create(apps, model, reason: str = "初始协议数据（种子合同）", **fields):
    """Create a row and its first audit record. Current models record it through
    simple-history's signal; a migration's historical models have none, so write it here."""
    obj = model(**fields)
    obj._change_reason = reason
    obj.save()
    if hasattr(model, "history"):
        return obj
    try:
        historical = apps.get_model(model._meta.app_label, "Historical" + model._meta.object_name)
    except LookupError:
        return obj
    historical.objects.create(
        **{f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields},
        history_date=timezone.now(),
        history_type="+",
        history_change_reason=reason,
    )
    return obj


def _audited_get_or_create(apps, model, defaults: dict, **lookup):
    obj = model.objects.filter(**lookup).first()
    if obj is not None:
        return obj, False
    return _audited_create(apps, model, **lookup, **defaults), True


#: Loaders of the seed contracts' terms kept by higher apps (finance terms and installment rules):
#: each app registers its own in AppConfig.ready(); `seed_contracts` runs them after `load_seed`.
SEED_LOADERS: list = []


def register_seed_loader(loader) -> None:
    """Register `loader(apps)`, idempotent like `load_seed`, run by `manage.py seed_contracts`."""
    if loader not in SEED_LOADERS:
        SEED_LOADERS.append(loader)


def run_seed_loaders(apps) -> None:
    for loader in SEED_LOADERS:
        loader(apps)


def load_seed(apps) -> None:
    Area = apps.get_model("programs", "Area")
    Party = apps.get_model("programs", "Party")
    PartyContact = apps.get_model("programs", "PartyContact")
    Program = apps.get_model("programs", "Program")
    Contract = apps.get_model("programs", "Contract")
    PremiumRate = apps.get_model("programs", "PremiumRate")

    areas = {}
    for code, name, level, parent in AREAS:
        areas[code], _ = _audited_get_or_create(
            apps, Area, code=code, defaults={"name": name, "level": level, "parent": areas.get(parent)}
        )
    parties = {}
    for spec in PARTIES:
        spec = dict(spec)
        contacts = spec.pop("contacts", [])
        party, created = _audited_get_or_create(apps, Party, name=spec.pop("name"), defaults=spec)
        if created:
            for name, role, phone in contacts:
                PartyContact.objects.create(party=party, name=name, role=role, phone=phone)
        parties[party.name] = party
    programs = {}
    for code, name, kind, region in PROGRAMS:
        programs[code], _ = _audited_get_or_create(
            apps, Program, code=code, defaults={"name": name, "kind": kind, "region": areas[region]}
        )
    for spec in CONTRACTS:
        spec = dict(spec)
        rates = spec.pop("rates")
        (period_start, period_end), (cycle_start, cycle_end) = spec.pop("period"), spec.pop("service_cycle")
        spec.update(
            program=programs[spec.pop("program")],
            authority=parties[spec.pop("authority")],
            insurer=parties[spec.pop("insurer")],
            period_start=period_start,
            period_end=period_end,
            service_cycle_start=cycle_start,
            service_cycle_end=cycle_end,
        )
        contract, created = _audited_get_or_create(apps, Contract, code=spec.pop("code"), defaults=spec)
        if created:
            # an early migration's model has no headcount category yet (programs 0013 sets it)
            known = {f.name for f in PremiumRate._meta.get_fields()}
            for category, employment, key, per_capita, note in rates:
                extra = {"headcount_category": key} if "headcount_category" in known else {}
                _audited_create(
                    apps,
                    PremiumRate,
                    contract=contract, category=category, employment=employment, per_capita=per_capita, note=note, **extra
                )


def load_seed_plans(apps) -> None:
    """The seed contracts' benefit rules (DOMAIN.md §4.1–4.4), if the contract has none yet."""
    Contract = apps.get_model("programs", "Contract")
    BenefitPlan = apps.get_model("programs", "BenefitPlan")
    for code, rules in SEED_PLAN_DICTS.items():
        contract = Contract.objects.filter(code=code).first()
        if contract is None or BenefitPlan.objects.filter(contract=contract).exists():
            continue
        _audited_create(apps, BenefitPlan, contract=contract, rules=rules, version=1)
