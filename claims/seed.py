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


def load_slip_prefixes(apps) -> None:
    """Each seed contract's slip prefix, where its terms have none yet."""
    ClaimTerms = apps.get_model("claims", "ClaimTerms")
    for code, prefix in SLIP_PREFIXES.items():
        ClaimTerms.objects.filter(contract__code=code, slip_prefix="").update(slip_prefix=prefix)
