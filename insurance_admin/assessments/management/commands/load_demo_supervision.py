"""Demo data for the supervision pages: complaints in each state, the joint-office roster of
Zhenping and Tongliao (and Beijing's service team), one daily supervision record, and Zhenping's
assessment of the year so far computed as a draft (scores, total, grade; nothing booked until a
supervisor decides it).

Run after `load_demo` (it needs the demo users and persons). Everything goes through the apps'
own services (complaints: register, transitions with their status-change rows and deadline;
assessments: `supervision_record_add`); the roster, which the administrator keeps in the admin
(there is no roster service), is validated with full_clean and saved with its history row.
Idempotent: each row is looked up by a natural key first (a complaint by contract and what it
says, a staff member by contract and name, a record by contract, item and finding, the draft
assessment by contract and kind). Dates are
relative to today so that one complaint stays overdue. All names are fake (张某某 style)."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from insurance_admin.accounts.models import User
from insurance_admin.assessments.models import Assessment, AssessmentItem, SupervisionRecord
from insurance_admin.assessments.services import assessment_compute, supervision_record_add
from insurance_admin.complaints import services as complaints
from insurance_admin.complaints.models import Complaint
from insurance_admin.staffing.models import StaffMember, TeamRole
from insurance_admin.staffing.selectors import windows_of
from programs.models import Contract

REASON = "演示数据（合成，非真实人员）"
S = Complaint.Status

# Zhenping (min 3 joint-office staff): three, the commitment is met.
ZHENPING_STAFF = [
    # (name, role, position, medical background, at the window)
    ("张某某", TeamRole.LEADER, "镇平支公司副总经理", False, False),
    ("李某华", TeamRole.CLAIMS_A, "理赔审核岗", True, False),
    ("王某某", TeamRole.WINDOW, "医保大厅联合办公窗口", True, True),
]
# Tongliao (≥ 10 with a medical background, 1–3 full-time at each county window): a leader at
# the city and one full-time member at every county window, one of them without a medical
# background — 9 of 10: the one visible shortfall.
TONGLIAO_LEADER = ("赵某某", TeamRole.LEADER, "通辽分公司健康险部经理", True, False)
TONGLIAO_WINDOW_NAMES = ["孙某某", "周某某", "吴某某", "郑某某", "冯某某", "陈某某", "褚某某", "卫某某", "蒋某某"]
TONGLIAO_NON_MEDICAL = "郑某某"

# Beijing (a named service team, every post filled): the roster page opens on it, so it is not empty.
BEIJING_STAFF = [
    ("钱某某", TeamRole.LEADER, "项目负责人（第一联系人）"),
    ("孔某某", TeamRole.DEPUTY, "项目副组长"),
    ("曹某某", TeamRole.UNDERWRITING_A, "承保A岗"),
    ("严某某", TeamRole.UNDERWRITING_B, "承保B岗"),
    ("华某某", TeamRole.CLAIMS_A, "理赔A岗"),
    ("金某某", TeamRole.CLAIMS_B, "理赔B岗"),
]

OVERDUE = "2026年住院的大额医疗费用补助申请已交齐材料一个多月，至今未到账，多次电话询问均答复“在审核”。"
ABOUT_STAFF = "在镇平县医保大厅联合办公窗口咨询大额补助报销时，窗口工作人员王某某态度生硬，未一次性告知所需材料，来回跑了三趟。"
ANSWERED = "县医保局转来：参保职工对大额医疗费用补助金额有异议，认为自费药品部分不应全部剔除。"
CLOSED = "退休人员反映本人已参保，但在定点医院结算时系统显示未参加大额医疗费用补助。"


class Command(BaseCommand):
    help = "Create demo complaints, joint-office rosters and a daily supervision record (idempotent; after load_demo)."

    def handle(self, *args, **options):
        try:
            supervisor = User.objects.get(username="supervisor")
            caseworker = User.objects.get(username="caseworker_zhenping")
        except User.DoesNotExist:
            raise CommandError("Run `manage.py load_demo` first (the demo users are missing).") from None
        today = timezone.localdate()
        with transaction.atomic():
            zhenping = Contract.objects.select_related("program__region").get(code="zhenping-2026")
            tongliao = Contract.objects.select_related("program__region").get(code="tongliao-2025")
            staff = self._roster(zhenping, tongliao, supervisor)
            complaints_made = self._complaints(zhenping, caseworker, supervisor, staff["王某某"], today)
            records = self._record(zhenping, supervisor, today)
            assessments = self._assessment(zhenping, supervisor, today)
        self.stdout.write(self.style.SUCCESS(
            f"supervision demo ready: {len(staff['created'])} staff members, {complaints_made} complaints, "
            f"{records} supervision records, {assessments} draft assessments created"))

    # --- the roster ----------------------------------------------------------------------

    def _member(self, contract, area, name, role, position, medical, at_window, user, created):
        member = StaffMember.objects.filter(contract=contract, name=name).first()
        if member is not None:
            return member
        member = StaffMember(contract=contract, area=area, name=name, team_role=role, position=position,
                             medical_background=medical, full_time=True, at_window=at_window,
                             active_from=contract.period_start)
        member.full_clean()
        member._history_user = user
        member._change_reason = REASON
        member.save()
        created.append(member)
        return member

    def _roster(self, zhenping, tongliao, user) -> dict:
        created: list[StaffMember] = []
        out = {"created": created}
        county = windows_of(zhenping)[0]
        for name, role, position, medical, at_window in ZHENPING_STAFF:
            out[name] = self._member(zhenping, county, name, role, position, medical, at_window, user, created)
        name, role, position, medical, at_window = TONGLIAO_LEADER
        self._member(tongliao, tongliao.program.region, name, role, position, medical, at_window, user, created)
        beijing = Contract.objects.select_related("program__region").get(code="beijing-chaoyang-2026")
        for name, role, position in BEIJING_STAFF:
            self._member(beijing, windows_of(beijing)[0], name, role, position, False, False, user, created)
        for window, name in zip(windows_of(tongliao), TONGLIAO_WINDOW_NAMES, strict=True):
            self._member(tongliao, window, name, TeamRole.WINDOW, f"{window.name}医保经办窗口",
                         name != TONGLIAO_NON_MEDICAL, True, user, created)
        return out

    # --- complaints ----------------------------------------------------------------------

    def _complaints(self, contract, caseworker, supervisor, staff_member, today) -> int:
        area = windows_of(contract)[0]
        days = dt.timedelta
        made = 0

        def register(summary, **kw):
            nonlocal made
            if Complaint.objects.filter(contract=contract, summary=summary).exists():
                return None
            made += 1
            return complaints.complaint_register(user=caseworker, contract=contract, area=area, summary=summary, **kw)

        def step(complaint, to, **kw):
            return complaints.complaint_transition(complaint=complaint, to=to, user=supervisor, **kw)

        # received, never picked up: its answer deadline has passed
        register(OVERDUE, channel=Complaint.Channel.PHONE, category=Complaint.Category.CLAIM_TIME,
                 complexity=Complaint.Complexity.SIMPLE, received_on=today - days(40),
                 complainant_name="刘某某", complainant_phone="139****0001")
        # about a staff member: handled by the supervisor, not by that member
        c = register(ABOUT_STAFF, channel=Complaint.Channel.WINDOW, category=Complaint.Category.STAFF_CONDUCT,
                     complexity=Complaint.Complexity.SIMPLE, received_on=today - days(3),
                     complainant_name="陈某某", about_staff=staff_member)
        if c is not None:
            step(c, S.INVESTIGATING, assignee=supervisor, on=today - days(2), note="调取窗口监控并约谈当事人")
        c = register(ANSWERED, channel=Complaint.Channel.AUTHORITY, category=Complaint.Category.CLAIM_AMOUNT,
                     complexity=Complaint.Complexity.COMPLEX, received_on=today - days(30), complainant_name="杨某某")
        if c is not None:
            step(c, S.INVESTIGATING, assignee=supervisor, on=today - days(29))
            step(c, S.ANSWERED, on=today - days(20),
                 answer="经复核，所剔除药品均为医保目录外自费药品，补助金额计算无误；已向参保人逐项说明计算依据。",
                 root_cause="结算单未列明剔除明细，参保人无法核对")
        c = register(CLOSED, channel=Complaint.Channel.PHONE, category=Complaint.Category.ENROLLMENT,
                     complexity=Complaint.Complexity.SIMPLE, received_on=today - days(70),
                     complainant_name="吴某某", complainant_phone="137****0002")
        if c is not None:
            step(c, S.INVESTIGATING, assignee=supervisor, on=today - days(69))
            step(c, S.ANSWERED, on=today - days(62),
                 answer="经核实，单位参保名单报送遗漏，已补录并通知医院重新结算。",
                 root_cause="单位报送的退休人员名单与医保系统未及时比对")
            step(c, S.CLOSED, on=today - days(55),
                 rectification="每月与医保经办机构比对一次参保名单，差异当日补录。")
        return made

    # --- the daily supervision record ----------------------------------------------------

    def _record(self, contract, user, today) -> int:
        item = AssessmentItem.objects.filter(template__contract=contract, kind=AssessmentItem.Kind.INSPECTED,
                                             name="服务质量").first()
        if item is None:
            return 0
        finding = ("镇平县医保大厅联合办公窗口抽查：1名窗口人员未一次性告知大额补助报销所需材料，扣2分。"
                   "证据：现场检查记录表（编号 ZP-JC-001）及窗口监控截图。")
        if SupervisionRecord.objects.filter(contract=contract, item=item, finding=finding).exists():
            return 0
        supervision_record_add(contract=contract, area=windows_of(contract)[0], item=item, on_date=today - dt.timedelta(days=2),
                               points=Decimal("-2"), finding=finding, user=user)
        return 1


    def _assessment(self, contract, user, today) -> int:
        """The year so far, computed (a draft: the page shows every item's score and the grade;
        deciding it, which books the deduction, is left to the supervisor)."""
        if Assessment.objects.filter(contract=contract, kind=Assessment.Kind.ANNUAL).exists():
            return 0
        end = min(today, contract.period_end)
        if end < contract.period_start:
            return 0
        assessment_compute(contract=contract, period_start=contract.period_start, period_end=end, user=user)
        return 1
