"""The seed contracts' claim rules and document checklists (DOMAIN.md §6, seeds 001/002/004/000).

Called by a data migration and by `manage.py seed_contracts` (idempotent: an administrator's
later edits are kept)."""

TONGLIAO_DEADLINE = (
    "市域范围内定点医疗机构发生的医疗费用，乙方应自收到大病保险赔付申请相关资料之日起，10个工作日内赔付给参保人员；"
    "异地就医未能即时结算的大病保险及意外伤害医疗费用，乙方应当与医保经办机构共同审核、录入，并在25日内予以拨付；"
    "特殊情况需要核查住院费用的，可适当延长至30个工作日内予以赔付。"
)
TAIKANG_DEADLINE = "第二十六条 进行非即时结算的大额补充医疗保险报销费用，乙方须在收到参保人员资料后15个工作日内向参保职工结算支付完毕。"
ZHENPING_DEADLINE = "第十八条 ……乙方应在十五个工作日内给予赔付。"
ZHENPING_FILING = "第二十条 被保险人最迟应在保险年度结束后12个月内提出补偿申请，逾期乙方不再受理。"

CLAIM_TERMS = {
    "tongliao-2025": {
        "deadline_days": 10, "deadline_unit": "working",
        "out_of_area_places": ["out_of_region"], "out_of_area_days": 25, "out_of_area_unit": "calendar",
        "extended_days": 30, "extended_unit": "working",
        "deadline_rule_text": TONGLIAO_DEADLINE,
    },
    "taikang-2025": {"deadline_days": 15, "deadline_unit": "working", "deadline_rule_text": TAIKANG_DEADLINE},
    "zhenping-2026": {
        "deadline_days": 15, "deadline_unit": "working", "deadline_rule_text": ZHENPING_DEADLINE,
        "filing_window_months": 12, "filing_rule_text": ZHENPING_FILING,
    },
    # Beijing's contract sets no manual-claim deadline (only 3 working days for complaints).
    "beijing-chaoyang-2026": {},
}

#: The office's slip numbering per contract (ClaimTerms.slip_prefix): TL2025-000001 …
SLIP_PREFIXES = {"tongliao-2025": "TL", "taikang-2025": "TK", "zhenping-2026": "ZP", "beijing-chaoyang-2026": "BJ"}

_INPATIENT = ["inpatient", "accident_inpatient"]
_OUTPATIENT = ["outpatient", "special_outpatient", "student_accident_outpatient"]

# (code, label, claim kinds, places); empty lists = every claim
DOCUMENTS = {
    "tongliao-critical-illness": [
        ("application", "大病保险/意外伤害赔付申请表", [], []),
        ("id_card", "身份证或医保卡复印件", [], []),
        ("bank_card", "银行卡复印件", [], []),
        ("invoice", "医疗费用发票原件", [], []),
        ("itemised_bill", "费用明细清单", [], []),
        ("basic_settlement", "基本医疗保险结算单", [], []),
        ("diagnosis", "诊断证明（住院）", _INPATIENT, []),
        ("discharge_summary", "出院小结", _INPATIENT, []),
        ("prescription", "门诊处方底方（急诊提供急诊诊断证明）", _OUTPATIENT, []),
        ("medical_record", "病历及意外伤害相关证明材料", ["accident_inpatient", "student_accident_outpatient"], []),
        ("referral", "异地就医备案或转诊证明", [], ["out_of_region"]),
    ],
    "taikang-supplementary": [
        ("application", "大额补充医疗保险报销申请表", [], []),
        ("id_card", "身份证或社保卡复印件", [], []),
        ("bank_card", "银行卡复印件", [], []),
        ("invoice", "住院医疗费用发票原件", [], []),
        ("itemised_bill", "费用明细清单", [], []),
        ("basic_settlement", "基本医疗保险结算单", [], []),
        ("diagnosis", "诊断证明及出院小结", [], []),
        ("referral", "转诊审批表", [], ["province_referral", "out_of_province_referral"]),
        ("residence", "异地居住备案证明", [], ["remote_resident"]),
    ],
    "zhenping-supplementary": [
        ("paid_list", "甲方已赔付的费用清单", [], []),
        ("receipt", "住院医疗正式收据复印件", [], []),
        ("diagnosis", "医疗诊断证明（含诊断数据）复印件", [], []),
        ("itemised_bill", "费用明细清单复印件", [], []),
        ("id_card", "身份证复印件", [], []),
        ("bank_card", "银行卡复印件", [], []),
    ],
    "beijing-chaoyang-puhui": [
        ("application", "理赔申请书", [], []),
        ("id_card", "被保险人身份证明", [], []),
        ("bank_card", "银行卡复印件", [], []),
        ("invoice", "医疗费用发票", [], []),
        ("itemised_bill", "费用明细清单", [], []),
        ("diagnosis", "诊断证明", [], []),
        ("discharge_summary", "出院小结（住院）", _INPATIENT, []),
        ("prescription", "专科医生处方及购药凭证（特药）", ["special_drug"], []),
    ],
}


def load_claim_terms(apps) -> None:
    Contract = apps.get_model("programs", "Contract")
    ClaimTerms = apps.get_model("claims", "ClaimTerms")
    DocumentRequirement = apps.get_model("claims", "DocumentRequirement")
    for code, terms in CLAIM_TERMS.items():
        contract = Contract.objects.filter(code=code).first()
        if contract is not None and not ClaimTerms.objects.filter(contract=contract).exists():
            ClaimTerms.objects.create(contract=contract, **terms)
    if any(f.name == "slip_prefix" for f in ClaimTerms._meta.get_fields()):  # migrations before 0012 lack it
        load_slip_prefixes(apps)
    for code, documents in DOCUMENTS.items():
        program = apps.get_model("programs", "Program").objects.filter(code=code).first()
        if program is None or DocumentRequirement.objects.filter(program=program).exists():
            continue
        DocumentRequirement.objects.bulk_create(
            DocumentRequirement(program=program, code=c, label=label, claim_kinds=kinds, places=places, position=i)
            for i, (c, label, kinds, places) in enumerate(documents)
        )


BEIJING_SERVICES = "（5）健康管理服务"

# Member services (健康管理服务) per contract: (code, name, count/year, subsidy rate, cap per use,
# cap per year, eligibility, choose one, kinds, clause). Seed 000, 保障计划表 and 第二条4.(5).
ENTITLEMENTS = {
    "beijing-chaoyang-2026": [
        ("nursing", "护理类服务", 5, None, None, None, "", False,
         ["就医陪护", "居家康复类", "机构康复类", "生活照顾类", "上门检测类", "上门护理类"],
         "①所有被保险人可享有“就医陪护、居家康复类、机构康复类、生活照顾类、上门检测类、上门护理类”服务，"
         "具体服务内容详见《健康管理服务目录-护理服务类》，保险期间内总服务次数上限为5次。"),
        ("drug_discount", "购药折扣服务", 12, "0.1000", "400.00", "1800.00", "", False,
         ["购药配送到家", "原研药购药到家", "指定药房门店购药"],
         "②所有被保险人可享有购药折扣服务，用户可享受购药配送到家9折优惠（有即时配送或邮寄到家两种方式）、原研药购药到家9折优惠"
         "（享邮寄到家服务）、和指定药房门店购药9折优惠。保期年度内补贴金额上限为1800元，单次购买补贴额度限400元，"
         "保期内总服务次数上限为12次。"),
        ("extra", "专属健康管理服务", 1, None, None, None, "continuous_no_claim_3y", True,
         ["口腔健康", "中医调理", "健康检查", "家庭急救包", "日常小药箱", "体重管理年精选设备"],
         "③近三年连续参保且无出险记录的被保险人可额外享有以下六项服务之一：“口腔健康、中医调理、健康检查、家庭急救包、"
         "日常小药箱、体重管理年精选设备”服务，符合条件的被保险人可选其中一项作为2026年专属健康管理服务使用，"
         "保险期间内总服务次数上限为1次。"),
    ],
}


def load_entitlements(apps) -> None:
    """The seed contracts' member services (idempotent: a contract that has groups is left as
    an administrator keeps it)."""
    from decimal import Decimal

    Contract = apps.get_model("programs", "Contract")
    EntitlementGroup = apps.get_model("claims", "EntitlementGroup")
    EntitlementKind = apps.get_model("claims", "EntitlementKind")
    for code, groups in ENTITLEMENTS.items():
        contract = Contract.objects.filter(code=code).first()
        if contract is None or EntitlementGroup.objects.filter(contract=contract).exists():
            continue
        for position, (gcode, name, count, rate, per_use, per_year, eligibility, choose_one, kinds, clause) in enumerate(groups):
            group = EntitlementGroup.objects.create(
                contract=contract, code=gcode, name=name, yearly_count_limit=count,
                subsidy_rate=Decimal(rate) if rate else None, per_use_cap=Decimal(per_use) if per_use else None,
                yearly_amount_cap=Decimal(per_year) if per_year else None, eligibility=eligibility,
                choose_one=choose_one, position=position, source=f"{BEIJING_SERVICES}{clause}",
            )
            EntitlementKind.objects.bulk_create(
                EntitlementKind(group=group, name=kind, position=i) for i, kind in enumerate(kinds)
            )


# --- hospital settlement terms (the payment rule of the hospital batches) --------------------

HOSPITAL_SETTLEMENT_TERMS = {
    "tongliao-2025": {"rule": "day_of_next_month", "pay_day": 30,
                      "source": "通辽协议：保险人于次月30日前拨付定点医疗机构上月垫付费用"},
    "taikang-2025": {"rule": "working_days_after_report", "report_by_day": 10, "working_days": 15,
                     "source": "太康协议：医疗机构每月10日前报送，保险人审核后15个工作日内拨付"},
}


def seed_settlement_terms(terms_model=None, contract_model=None) -> int:
    """Create the seed contracts' hospital payment terms where missing (idempotent); returns how many."""
    if terms_model is None or contract_model is None:
        from programs.models import Contract

        from .models import HospitalSettlementTerms

        terms_model, contract_model = terms_model or HospitalSettlementTerms, contract_model or Contract
    created = 0
    for code, spec in HOSPITAL_SETTLEMENT_TERMS.items():
        contract = contract_model.objects.filter(code=code).first()
        if contract is not None:
            _, was_created = terms_model.objects.get_or_create(contract=contract, defaults=spec)
            created += was_created
    return created
def load_slip_prefixes(apps) -> None:
    """Each seed contract's slip prefix, where its terms have none yet."""
    ClaimTerms = apps.get_model("claims", "ClaimTerms")
    for code, prefix in SLIP_PREFIXES.items():
        ClaimTerms.objects.filter(contract__code=code, slip_prefix="").update(slip_prefix=prefix)
