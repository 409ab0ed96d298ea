"""The seed contracts' staffing commitments (DOMAIN.md §7), quoting the clauses.

`load_staffing_commitments(apps)` takes a model registry so the same data serves the data
migration and `manage.py seed_contracts` (e.g. after a test flush); at run time the
commitments are read from the database only. Existing rows are left as an administrator may
have edited them."""

TONGLIAO = (
    "第八条 1、【人员经费】乙方应建立完善的大病保险服务团队，服务团队人员配置不得少于□人，其中医学相关背景人数不少于10人。"
    "其中每个旗县市区配备专职工作人员1-3名到当地医保经办机构服务窗口联合办公。"
)
TAIKANG = "第七条 甲乙双方建立联合办公机制，乙方按照服务承诺在太康县（市、区）医疗保险经办机构配备联合办公人员。"
ZHENPING = "4、甲乙双方建立联合办公机制。乙方配备不少于3名工作人员，协助甲方从事大额医疗费用补助日常监督管理工作。"
BEIJING = (
    "第三条 1.为保证服务工作顺利进行，乙方成立专项服务小组，指派专人提供各项服务……特别是第一联系人发生变化时，"
    "乙方应提前两周通知各相关方并进行工作交接。未经甲方书面同意，乙方不得随意更换项目负责人。"
    "乙方服务小组名单：组长（负责人）、副组长、承保A岗、承保B岗、理赔A岗、理赔B岗。"
)

COMMITMENTS = {
    # the total team size is illegible in the scanned contract ("不得少于 M人"): not set
    "tongliao-2025": {"min_medical": 10, "min_fulltime_per_window": 1, "max_fulltime_per_window": 3, "rule_text": TONGLIAO},
    "taikang-2025": {"rule_text": TAIKANG},
    "zhenping-2026": {"min_total": 3, "rule_text": ZHENPING},
    "beijing-chaoyang-2026": {
        "team_roles": ["leader", "deputy", "underwriting_a", "underwriting_b", "claims_a", "claims_b"],
        "first_contact_role": "leader", "notice_days": 14, "rule_text": BEIJING,
    },
}


def load_staffing_commitments(apps, codes=None) -> None:
    Contract = apps.get_model("programs", "Contract")
    StaffingCommitment = apps.get_model("staffing", "StaffingCommitment")
    for code, values in COMMITMENTS.items():
        if codes is not None and code not in codes:
            continue
        contract = Contract.objects.filter(code=code).first()
        if contract is not None:
            StaffingCommitment.objects.get_or_create(contract=contract, defaults=values)
