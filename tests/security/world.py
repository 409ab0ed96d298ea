"""The guard's world: area A (通辽市 150500, its county 科尔沁区 150502) where the tested users
work, and the other seed regions (太康县 411627, 镇平县 411324, 北京朝阳区 110105) whose
objects they must never reach. The demo loaders build most of it through the real services;
`_extras` adds what they leave out (a hospital batch, deductions, recoveries, penalties, an
import batch, slips, headcount snapshots, users) so every model with a URL or an admin page
has at least one object outside area A.

Which objects are "foreign" to a user is decided here, independently of the product's own
`for_user()` scoping: an object belongs to the areas its foreign keys lead to (area, person,
contract, program, ...), and is foreign when none of them lies in the user's areas, their
descendants or their ancestors."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal as D

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, models

A_REGION, A_COUNTY, A_SIBLING_COUNTY = "150500", "150502", "150523"
B_COUNTY = "411627"  # 太康县: the region whose extras are built here
GUARD_PASSWORD = "guard-pw-1"

# Distinctive values of the objects built here for area B (the body scan looks for them and
# for every other foreign object's values).
B_PERSON_NAME = "欧阳哨兵甲"
B_PAYEE_NAME = "欧阳哨兵乙"
B_BANK_ACCOUNT = "6217000099998888777"
B_HOSPITAL = ("H41162799999", "太康哨兵专科医院")
B_PARTY_ACCOUNT = "41050166770800000999"
B_STAFF_NAME = "欧阳哨兵戊"
B_COMPLAINANT = "欧阳哨兵丁"
B_CALLER = ("欧阳哨兵己", "13899995555")

# Roles, each bound to ONE area of region A.
ROLE_AREAS = {
    "caseworker": A_COUNTY,
    "reviewer": A_REGION,
    "finance": A_REGION,
    "finance_county": A_COUNTY,  # finance documents of one county (clearing, reports)
    "supervisor": A_REGION,
    "administrator": A_REGION,
}


def build_world() -> dict:
    from programs.models import Area

    call_command("load_demo", verbosity=0)
    call_command("load_demo_claims", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    _extras()
    users = _guard_users()
    # Users are bound after everything exists: the scope cache is per user object.
    return {"users": users, "areas": {a.code: a for a in Area.objects.all()}}


def _guard_users() -> dict:
    from django.contrib.auth.models import Group

    from insurance_admin.accounts.models import User
    from programs.models import Area

    users = {}
    for role, code in ROLE_AREAS.items():
        user = User.objects.create(username=f"guard_{role}", is_staff=True, first_name=f"守卫{role}")
        user.set_password(GUARD_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role.removesuffix("_county"))])
        user.areas.set([Area.objects.get(code=code)])
        users[role] = user
    # Staff member of area A without any permission: every write must be refused.
    nobody = User.objects.create(username="guard_nobody", is_staff=True, first_name="守卫无权")
    nobody.areas.set([Area.objects.get(code=A_REGION)])
    users["nobody"] = nobody
    return users


def _extras() -> None:
    from django.contrib.auth.models import Group

    from claims import imports
    from claims.documents import slips_issue
    from claims.models import Claim
    from claims.registration import claim_register, requirements_for
    from claims.workflow import claim_transition
    from finance import services as fin
    from insurance_admin.accounts.models import User
    from programs import services as prog
    from programs.identity import with_check_char
    from programs.models import Area, Contract, Enrollment

    taikang = Contract.objects.get(code="taikang-2025")
    county = Area.objects.get(code=B_COUNTY)
    cw, rv, fi = (User.objects.get(username=u) for u in ("caseworker_taikang", "reviewer", "finance"))

    # A distinctive person of area B with an approved claim paid to a bank account, and its slip.
    person = prog.person_create(certno=with_check_char("41162719660312" + "777"), name=B_PERSON_NAME,
                                psn_no="41162700009999999", phone="13899990000", reason="guard")
    prog.enrollment_create(person=person, contract=taikang, area=county, enrolled_from=taikang.period_start,
                           source=Enrollment.Source.GROUP, employment="active", reason="guard")
    docs = requirements_for(program=taikang.program, claim_kind="inpatient", place="local")
    claim = claim_register(
        user=cw, person=person, contract=taikang, claim_kind="inpatient", place="local", fixmedins_code=B_HOSPITAL[0],
        fixmedins_name=B_HOSPITAL[1], hosp_lv="2", begndate=dt.date(2025, 4, 1), enddate=dt.date(2025, 4, 12),
        records=[{"setl_id": "GUARD-TK-001", "medfee_sumamt": D("196000.00"), "inscp_scp_amt": D("196000.00"),
                  "hifp_pay": D("80000.00"), "over_cap_amt": D("110000.00")}],
        documents=docs, received_on=dt.date(2025, 4, 15), notes="guard", today=dt.date(2025, 4, 15),
        payee_name=B_PAYEE_NAME, bank_name="中国建设银行太康支行", bank_account=B_BANK_ACCOUNT,
    )
    for step, actor in ((Claim.Status.CALCULATED, cw), (Claim.Status.SUBMITTED, cw), (Claim.Status.APPROVED, rv)):
        claim = claim_transition(claim=claim, to=step, user=actor)
    slips_issue(claims=[claim], user=rv)
    paid = Claim.objects.filter(contract=taikang, status=Claim.Status.PAID).order_by("pk").first()
    if paid is not None:
        slips_issue(claims=[paid], user=rv)

    # A hospital monthly batch of 太康县, applied, with a deduction, a recovery and its payable.
    row = {"setl_id": "GUARD-TK-H-001", "psn_no": person.psn_no, "certno": person.certno, "enddate": "2025-09-10",
           "fixmedins_code": B_HOSPITAL[0], "fixmedins_name": B_HOSPITAL[1], "hosp_lv": "2", "claim_kind": "inpatient",
           "place": "local", "medfee_sumamt": "120000.00", "fulamt_ownpay_amt": "10000.00", "overlmt_selfpay": "0",
           "preselfpay_amt": "0", "inscp_scp_amt": "110000.00", "hifp_pay": "80000.00", "hifob_pay": "8500.00",
           "over_cap_amt": "10000.00"}
    header = list(row)
    data = (",".join(header) + "\r\n" + ",".join(row[c] for c in header) + "\r\n").encode()
    batch = imports.batch_upload(contract=taikang, month=dt.date(2025, 9, 1), reported_on=dt.date(2025, 9, 30), user=fi,
                                 uploaded_file=SimpleUploadedFile("guard-taikang-2025-09.csv", data))
    batch = imports.batch_validate(batch.pk)
    if batch.status != batch.Status.VALIDATED:
        raise RuntimeError(f"guard hospital batch refused: {imports.rendered_errors(batch.errors)}")
    imports.batch_confirm(batch=batch, user=fi)
    batch = imports.batch_apply(batch.pk)
    settlement = imports.batch_settlements(batch).first()
    imports.deduction_record(settlement=settlement, amount=D("100.00"), reason="哨兵扣减理由", user=fi)
    imports.recovery_record(settlement=settlement, amount=D("50.00"), reason="哨兵追回理由", found_on=dt.date(2025, 10, 2),
                            user=fi)
    imports.batch_payable_post(batch=batch, user=fi)

    # Finance rows of B that the demo does not book.
    fin.penalty_impose(contract=taikang, kind="recovery", amount=D("1234.56"), imposed_on=dt.date(2025, 6, 1),
                       reason="哨兵违约金", user=fi, area=county)
    zhenping = Contract.objects.get(code="zhenping-2026")
    if not zhenping.deposits.exists():
        fin.deposit_open(contract=zhenping, kind="annual", required=D("5000.00"), basis="哨兵保证金", user=fi)

    # An enrollment-list import of 太康县 (validated, waiting for confirmation) and headcounts.
    from tests.programs.registry_helpers import csv_bytes, person_row

    batch = prog.import_batch_create(
        user=cw, contract=taikang, effective_date=dt.date(2025, 1, 1),
        uploaded_file=SimpleUploadedFile("guard-taikang-list.csv", csv_bytes([
            person_row(1, area=B_COUNTY, name="欧阳哨兵丙", psn_no="P41162700000777")])),
    )
    prog.import_batch_validate(batch_id=batch.pk)
    prog.headcount_snapshot_take(contract=taikang, kind="provisional", as_of=dt.date(2025, 4, 30), user=fi)

    # The parties of B carry a distinctive bank account.
    party = taikang.authority
    party.bank_account = B_PARTY_ACCOUNT
    party.save()

    # A first version of the terms the migrations seeded without history.
    from claims.models import ClaimTerms, HospitalSettlementTerms
    from finance.models import FinanceTerms
    from insurance_admin.complaints.models import ComplaintTerms
    from insurance_admin.staffing.models import StaffingCommitment

    for model in (ClaimTerms, HospitalSettlementTerms, FinanceTerms, ComplaintTerms, StaffingCommitment):
        for terms in model.objects.all():
            terms.save()

    # Renewal simulations (测算): a finished run of 太康 (area B) and one of 通辽 (area A), by
    # the service the worker runs.
    from claims.services import plan_of
    from finance.simulation_runs import simulation_run_create, simulation_run_execute

    tl_finance = User.objects.get(username="finance")
    for contract in (taikang, Contract.objects.get(code="tongliao-2025")):
        run = simulation_run_create(contract=contract, user=tl_finance, plan=plan_of(contract).rules, per_capita={},
                                    target_kind="surplus_rate", target=D("0.03"))
        simulation_run_execute(run.pk)

    # Inbox reminders of deadlines in area B and in area A, each to a demo user of that area
    # (never to a guard user: marking one's own reminder read is a write the user may make).
    from insurance_admin.core.models import Deadline, Notification

    for username, contract in (("caseworker_taikang", "taikang-2025"), ("caseworker", "tongliao-2025")):
        deadline = Deadline.objects.filter(contract__code=contract).order_by("pk").first()
        assert deadline is not None, f"the demo data has no deadline of {contract}"
        Notification.objects.create(recipient=User.objects.get(username=username), deadline=deadline,
                                    stage=Notification.Stage.OVERDUE, text=f"守卫提醒 {deadline.label}", link="/")

    # Assessments of B (issue 21): a daily supervision record of 太康县 with an evidence file, a
    # decided failed assessment (its re-review deadline, its deduction-free outcome) and an
    # interview; none of area A, whose supervisors may record and assess by design.
    from insurance_admin.assessments import services as assess
    from insurance_admin.assessments.models import AssessmentItem

    sv = User.objects.get(username="supervisor")
    item = AssessmentItem.objects.get(template__contract=taikang, name="服务质量")
    assess.supervision_record_add(contract=taikang, area=county, item=item, on_date=dt.date(2025, 6, 3), points=D("-45"),
                                  finding="哨兵督查发现窗口无人", user=sv,
                                  evidence=SimpleUploadedFile("哨兵佐证.pdf", b"%PDF-1.4 guard evidence"))
    assess.supervision_record_add(contract=taikang, area=county, item=AssessmentItem.objects.get(template__contract=taikang,
                                  name="协议履行"), on_date=dt.date(2025, 6, 3), points=D("-30"), finding="哨兵协议未履行", user=sv)
    failed = assess.assessment_compute(contract=taikang, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31), user=sv)
    assess.assessment_decide(assessment=failed, assessed_on=dt.date(2026, 1, 9), user=sv)
    assess.warning_record(contract=taikang, kind="interview", on_date=dt.date(2026, 1, 12), reason="哨兵约谈事由", user=sv)
    _supervision_extras(cw, county)
    _member_extras(cw, person, taikang, county)
    # Periodic reports: the report periods of every contract, and runs of B (太康县, the whole
    # contract) and of A (通辽市 and 科尔沁区), PDF through a stand-in (no layout needed here).
    from unittest import mock

    from insurance_admin.reporting import services as reporting

    class _FakeHTML:
        def __init__(self, string="", **kwargs):
            self.string = string

        def write_pdf(self, *args, **kwargs):
            return b"%PDF-guard\n" + self.string.encode()

    tongliao = Contract.objects.get(code="tongliao-2025")
    with mock.patch("weasyprint.HTML", _FakeHTML):
        reporting.report_dues_backfill()
        # (March: the world's recovery of June makes Taikang's year-to-date claims negative,
        # which the finance report refuses — a finance matter, left to issue 19)
        reporting.generate_report("monthly", taikang, "2025-03", by=fi)
        reporting.generate_report("monthly", tongliao, "2025-09", by=fi)
        reporting.generate_report("monthly", tongliao, "2025-09", area=Area.objects.get(code=A_COUNTY), by=fi)
        reporting.generate_report("monthly", tongliao, "2025-09", area=Area.objects.get(code=A_SIBLING_COUNTY))

    # Users of other areas: one of area B, one bound to A and B (an A administrator must not
    # see or change either).
    b_admin = User.objects.create(username="guard_b_admin", is_staff=True, first_name="朝阳哨兵管理员")
    b_admin.groups.set([Group.objects.get(name="administrator")])
    b_admin.areas.set([Area.objects.get(code="110105")])
    multi = User.objects.create(username="guard_multi", is_staff=True, first_name="跨区哨兵经办员")
    multi.groups.set([Group.objects.get(name="caseworker")])
    multi.areas.set(Area.objects.filter(code__in=[A_REGION, "411600"]))


def _member_extras(cw_b, person_b, taikang, county_b) -> None:
    """Member services used in area B (a guard group on Taikang's contract: Beijing's seeded
    groups have no use in the world) and claims reported by phone in area B and in area A."""
    from django.utils import timezone

    from claims.members import entitlement_use_record
    from claims.models import ClaimReport, EntitlementGroup, EntitlementKind
    from insurance_admin.accounts.models import User
    from programs.models import Area, Contract

    group = EntitlementGroup.objects.create(contract=taikang, code="guard", name="哨兵护理服务", yearly_count_limit=3)
    kind = EntitlementKind.objects.create(group=group, name="哨兵上门护理")
    entitlement_use_record(user=cw_b, person=person_b, contract=taikang, kind=kind, used_on=dt.date(2025, 5, 6),
                           note="哨兵服务备注", today=dt.date(2025, 5, 6))
    ClaimReport.objects.create(contract=taikang, area=county_b, person=person_b, caller_name=B_CALLER[0],
                               caller_phone=B_CALLER[1], caller_relation="配偶", received_by=cw_b,
                               reported_at=timezone.make_aware(dt.datetime(2025, 4, 13, 9, 0)), summary="哨兵报案经过")
    cw_a = User.objects.get(username="caseworker")
    tongliao = Contract.objects.get(code="tongliao-2025")
    ClaimReport.objects.create(contract=tongliao, area=Area.objects.get(code=A_COUNTY), insured_name="科尔沁报案人",
                               caller_name="科尔沁来电人", caller_phone="13900001111", received_by=cw_a,
                               reported_at=timezone.make_aware(dt.datetime(2025, 4, 13, 10, 0)))


def _supervision_extras(cw_b, county_b) -> None:
    """Complaints and roster members in area B (distinctive names) and in area A."""
    from insurance_admin.accounts.models import User
    from insurance_admin.complaints.services import complaint_register, complaint_transition
    from insurance_admin.staffing.models import StaffMember
    from programs.models import Area, Contract

    taikang = Contract.objects.get(code="taikang-2025")
    tongliao = Contract.objects.get(code="tongliao-2025")
    horqin = Area.objects.get(code=A_COUNTY)
    b_member = StaffMember.objects.create(contract=taikang, area=county_b, name=B_STAFF_NAME, team_role="window",
                                          medical_background=True, at_window=True, phone="13899997777",
                                          active_from=dt.date(2025, 1, 1))
    StaffMember.objects.create(contract=tongliao, area=horqin, name="科尔沁窗口员", team_role="window", at_window=True,
                               medical_background=True, active_from=dt.date(2025, 1, 1))
    complaint_register(user=cw_b, contract=taikang, area=county_b, channel="window", category="staff_conduct",
                       complexity="simple", summary="哨兵投诉内容", received_on=dt.date(2025, 9, 1),
                       complainant_name=B_COMPLAINANT, complainant_phone="13899996666", about_staff=b_member)
    cw_a = User.objects.get(username="caseworker")
    supervisor = User.objects.get(username="supervisor")
    own = complaint_register(user=cw_a, contract=tongliao, area=horqin, channel="phone", category="claim_time",
                             complexity="simple", summary="科尔沁投诉内容", received_on=dt.date(2025, 9, 1),
                             complainant_name="科尔沁投诉人")
    complaint_transition(complaint=own, to="investigating", user=supervisor, assignee=supervisor)


# --- whose is an object ------------------------------------------------------------------

#: Models that belong to no area: reference data for all (with the reason).
GLOBAL_MODELS = {
    "auth.group": "role groups: the same five roles everywhere",
    "auth.permission": "permission catalogue",
    "contenttypes.contenttype": "model catalogue",
    "core.calendarday": "national holiday calendar (State Council), the same for every area",
    "core.calendaryear": "national holiday calendar (State Council), the same for every area",
    "core.heartbeat": "worker liveness, no area data",
    "core.taskfailure": "failed background tasks (task name, ids, exception), no area data; administrators only",
    "axes.accessattempt": "login-failure log (superuser only)",
    "axes.accesslog": "login log (superuser only)",
    "axes.accessfailurelog": "login-failure log (superuser only)",
    "django_celery_beat.periodictask": "schedules of background jobs, no area data",
    "django_celery_beat.clockedschedule": "schedules of background jobs, no area data",
    "django_celery_beat.crontabschedule": "schedules of background jobs, no area data",
    "django_celery_beat.solarschedule": "schedules of background jobs, no area data",
    "django_celery_beat.intervalschedule": "schedules of background jobs, no area data",
}

# Foreign keys that say who did something, not whose the object is.
_ACTOR_FIELDS = {"created_by", "confirmed_by", "registered_by", "approved_by", "extended_by", "received_by",
                 "issued_by", "printed_by", "uploaded_by", "recorded_by", "taken_by", "by", "history_user"}
# Which foreign key decides first (the most specific one).
_PRIORITY = ["area", "person", "enrollment", "claim", "settlement", "slip", "batch", "offset_batch", "deposit",
             "installment", "revolving_fund", "prepayment", "penalty", "hospital_payable", "fund", "schedule",
             "contract", "program", "party", "region", "parent"]


class Ownership:
    """owner_areas(obj): the area ids an object belongs to (None: global / unknown)."""

    def __init__(self):
        Area = apps.get_model("programs", "Area")
        self.parent = dict(Area.objects.values_list("pk", "parent_id"))
        self.code = dict(Area.objects.values_list("pk", "code"))
        self._cache: dict = {}
        Enrollment = apps.get_model("programs", "Enrollment")
        self.person_areas: dict[int, set[int]] = {}
        for person_id, area_id in Enrollment.objects.values_list("person_id", "area_id"):
            self.person_areas.setdefault(person_id, set()).add(area_id)
        Contract = apps.get_model("programs", "Contract")
        self.party_areas: dict[int, set[int]] = {}
        for authority, insurer, region in Contract.objects.values_list("authority_id", "insurer_id", "program__region_id"):
            for party in (authority, insurer):
                if party:
                    self.party_areas.setdefault(party, set()).add(region)

    def owners(self, obj) -> set[int] | None:
        label = obj._meta.label_lower
        key = (label, obj.pk)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None  # cycles
        result = self._owners(obj, label)
        self._cache[key] = result
        return result

    def _owners(self, obj, label) -> set[int] | None:
        if label == "programs.area":
            return {obj.pk}
        if label == "programs.program":
            return {obj.region_id}
        if label == "programs.insuredperson":
            return self.person_areas.get(obj.pk) or None
        if label == "programs.party":
            return self.party_areas.get(obj.pk) or None
        if label == "accounts.user":
            return set(obj.areas.values_list("pk", flat=True)) or None
        if label in GLOBAL_MODELS:
            return None
        fields = {f.name: f for f in obj._meta.concrete_fields if f.is_relation and f.many_to_one or f.one_to_one}
        for name in _PRIORITY + sorted(fields):
            field = fields.get(name)
            if field is None or name in _ACTOR_FIELDS or not getattr(field, "related_model", None):
                continue
            if field.related_model._meta.label_lower in ("accounts.user",):
                continue
            target = getattr(obj, name, None)
            if target is None:
                continue
            owners = self.owners(target)
            if owners:
                return owners
        return None

    def descendants(self, pks) -> set[int]:
        out, stack = set(pks), list(pks)
        while stack:
            pk = stack.pop()
            for child, parent in self.parent.items():
                if parent == pk and child not in out:
                    out.add(child)
                    stack.append(child)
        return out

    def ancestors(self, pks) -> set[int]:
        out = set()
        for pk in pks:
            parent = self.parent.get(pk)
            while parent is not None:
                out.add(parent)
                parent = self.parent.get(parent)
        return out

    def is_foreign(self, obj, bound: set[int]) -> bool:
        owners = self.owners(obj)
        if not owners:
            return False
        below = self.descendants(bound)
        if obj._meta.label_lower == "accounts.user":
            return not owners <= below
        return not owners & (below | self.ancestors(bound))


def history_model_of(model):
    manager = getattr(model, "history", None)
    return getattr(manager, "model", None) if manager is not None else None


# --- identifiers ---------------------------------------------------------------------------

_MIN_LEN = 3
_CJK = re.compile(r"[\u3400-\u9fff]")


#: Free-text fields whose values are a shared vocabulary offered on forms, not identifiers.
VOCABULARY_FIELDS = {
    ("programs.enrollment", "category_detail"),
    ("assessments.assessment", "grade"),
    # a deadline's rule quotes the contract's wording ("考核不合格后30个工作日内复核"), the same in
    # every contract that has the clause
    ("core.deadline", "rule"),  # the grade labels of the templates (优秀/良好/合格/不合格)
    # post titles (组长, 副组长, 承保A岗 …): the staffing roster offers the same words as its roles
    ("programs.partycontact", "role"),
}


def _text_values(obj) -> list[str]:
    values = []
    for field in obj._meta.concrete_fields:
        if (obj._meta.label_lower, field.name) in VOCABULARY_FIELDS:
            continue
        if isinstance(field, (models.CharField, models.TextField)) and not field.choices and not field.primary_key:
            value = getattr(obj, field.attname)
            if value:
                values.append(str(value).strip())
    return values


def _is_identifier(value: str) -> bool:
    if "\n" in value or len(value) > 60:
        return False
    if _CJK.search(value):
        return len(value) >= _MIN_LEN
    return len(value) >= 8 and any(c.isdigit() for c in value)


def identifiers_by_scope(ownership: Ownership, scopes: dict[str, set[int]]) -> dict[str, dict[str, str]]:
    """For each scope: {identifier: "app.model #pk"} of values found only on foreign objects."""
    from django.contrib.admin import site

    wanted = {m for m in site._registry} | {apps.get_model("claims", "SettlementSlip"), apps.get_model("programs", "PartyContact")}
    wanted |= {apps.get_model(*label.split(".")) for label in (
        "claims.settlement", "claims.claimdocument", "programs.smsnotification", "programs.headcountsnapshot",
        "complaints.complaint", "claims.claimreport", "claims.entitlementuse", "claims.entitlementkind")}
    objects = []
    for model in wanted:
        if model._meta.label_lower in GLOBAL_MODELS:
            continue
        objects.extend(model._default_manager.all())
    result = {}
    for name, bound in scopes.items():
        seen, foreign = [], {}
        for obj in objects:
            values = _text_values(obj)
            if obj._meta.label_lower == "accounts.user":
                values = [obj.username] if obj.username.startswith("guard_b") or obj.username == "guard_multi" else []
                values += [obj.first_name] if obj.first_name and "哨兵" in obj.first_name else []
            if ownership.is_foreign(obj, bound):
                for value in values:
                    if _is_identifier(value):
                        foreign.setdefault(value, f"{obj._meta.label_lower} #{obj.pk}")
            else:
                seen.extend(values)
        visible = "\x00".join(seen)
        result[name] = {value: where for value, where in foreign.items() if value not in visible}
    return result


# --- checksum ------------------------------------------------------------------------------

#: Tables a request may write without changing any business state (with the reason).
WRITABLE_TABLES = {
    "django_session": "the session of the logged-in test client",
    "axes_accessattempt": "login throttling",
    "axes_accesslog": "login log",
    "axes_accessfailurelog": "login log",
    "axes_accessattemptexpiration": "login throttling",
    "programs_identityaccess": "the access record that showing a full ID number writes, by design",
    "core_calendarfeed": "one's own calendar feed token, made or rotated by its owner (no area data)",
}
#: Columns that change on login, not through a route.
IGNORED_COLUMNS = {("accounts_user", "last_login")}


def checked_tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names() if t not in WRITABLE_TABLES)


def checksum() -> dict[str, tuple[int, str]]:
    """{table: (row count, sha1 of all rows)} for every table but WRITABLE_TABLES."""
    out = {}
    with connection.cursor() as cursor:
        for table in checked_tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            skip = {i for i, c in enumerate(columns) if (table, c) in IGNORED_COLUMNS}
            rows = sorted(repr(tuple(v for i, v in enumerate(row) if i not in skip)) for row in cursor.fetchall())
            out[table] = (len(rows), hashlib.sha1("\n".join(rows).encode()).hexdigest())
    return out


def checksum_diff(before: dict, after: dict) -> list[str]:
    return [f"{t}: {before.get(t)} -> {after.get(t)}" for t in sorted(set(before) | set(after)) if before.get(t) != after.get(t)]


_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?([\w]+)"?', re.I)


def written_tables(queries) -> set[str]:
    """Tables an SQL log wrote to (outside WRITABLE_TABLES)."""
    tables = set()
    for query in queries:
        match = _WRITE.match(query["sql"])
        if match and match.group(2) not in WRITABLE_TABLES:
            tables.add(match.group(2))
    return tables
