"""Assessments (issue 21 item 2): templates as data, scoring, grades, outcome and its money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.test import Client

from finance import services as fin
from finance.models import GuaranteeDeposit, LedgerEntry, Penalty
from insurance_admin.assessments import services
from insurance_admin.assessments.forms import ItemAdminForm, ItemFormSet
from insurance_admin.assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentTemplate,
    ItemScore,
    SupervisionRecord,
    SupervisionWarning,
)
from insurance_admin.core.models import Deadline
from programs.models import Area, Contract
from tests.factories import UserFactory

HORQIN, KAILU = "150502", "150523"


@pytest.fixture
def sup(db):
    """A supervisor of the whole of 通辽市 and of the other seed regions."""
    return UserFactory(username="sup_all", first_name="主管", role="supervisor", area_codes=["150500", "411600", "411300"])


@pytest.fixture
def sup_horqin(db):
    return UserFactory(username="sup_horqin", role="supervisor", area_codes=[HORQIN])


@pytest.fixture
def sup_tongliao(db):
    return UserFactory(username="sup_tl", role="supervisor", area_codes=["150500"])


@pytest.fixture
def fin_user(db):
    return UserFactory(username="fin_all", role="finance", area_codes=["150500", "411600", "411300"])


def contract(code):
    return Contract.objects.select_related("program__region").get(code=code)


def item(code, name) -> AssessmentItem:
    return AssessmentItem.objects.get(template__contract__code=code, name=name)


def record(code, name, points, *, user, area=None, on=dt.date(2025, 6, 2)):
    c = contract(code)
    return services.supervision_record_add(contract=c, area=area or c.program.region, item=item(code, name), on_date=on,
                                           points=D(points), finding="发现问题", user=user)


# --- templates --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_seed_contract_has_a_valid_template_of_the_five_items():
    for code in ("tongliao-2025", "taikang-2025", "zhenping-2026", "beijing-chaoyang-2026"):
        template = AssessmentTemplate.objects.get(contract__code=code)
        services.template_validate(template)
        assert [(i.name, i.weight, i.kind) for i in template.items.order_by("seq")] == [
            ("协议履行", D("30.00"), "inspected"), ("理赔时限", D("25.00"), "measured"), ("服务质量", D("20.00"), "inspected"),
            ("财务管理", D("15.00"), "inspected"), ("参保人员满意度", D("10.00"), "inspected")]
        assert [(g.label, g.min_score, g.passed) for g in template.grades.order_by("-min_score")] == [
            ("优秀", D("90.00"), True), ("良好", D("80.00"), True), ("合格", D("60.00"), True), ("不合格", D("0.00"), False)]


@pytest.mark.django_db
def test_weights_not_summing_to_100_are_refused_naming_each_item():
    AssessmentItem.objects.filter(template__contract__code="tongliao-2025", name="协议履行").update(weight=D("25"))
    template = AssessmentTemplate.objects.get(contract__code="tongliao-2025")
    with pytest.raises(ValidationError) as exc:
        services.template_validate(template)
    assert exc.value.messages == ["各考核项目权重合计须为100分，现为95分（协议履行 25、理赔时限 25、服务质量 20、财务管理 15、参保人员满意度 10）。"]
    with pytest.raises(ValidationError):
        services.assessment_compute(contract=template.contract, period_start=dt.date(2025, 1, 1),
                                    period_end=dt.date(2025, 11, 30), user=UserFactory(role="supervisor"))


@pytest.mark.django_db
def test_the_admin_formset_refuses_weights_off_100_and_saves_nothing():
    template = AssessmentTemplate.objects.get(contract__code="taikang-2025")
    items = list(template.items.order_by("seq"))
    data = {"items-TOTAL_FORMS": str(len(items)), "items-INITIAL_FORMS": str(len(items)), "items-MIN_NUM_FORMS": "1",
            "items-MAX_NUM_FORMS": "1000"}
    for n, i in enumerate(items):
        data.update({f"items-{n}-id": str(i.pk), f"items-{n}-template": str(template.pk), f"items-{n}-seq": str(i.seq),
                     f"items-{n}-name": i.name, f"items-{n}-weight": "31" if i.name == "协议履行" else str(i.weight),
                     f"items-{n}-kind": i.kind, f"items-{n}-kpi_key": i.kpi_key, f"items-{n}-full_at": str(i.full_at or ""),
                     f"items-{n}-points_per_unit": str(i.points_per_unit or ""), f"items-{n}-description": i.description})
    formset = inlineformset_factory(AssessmentTemplate, AssessmentItem, form=ItemAdminForm, formset=ItemFormSet, extra=0)(
        data, instance=template, prefix="items")
    assert not formset.is_valid()
    assert formset.non_form_errors() == ["各考核项目权重合计须为100分，现为101分（协议履行 31、理赔时限 25、服务质量 20、财务管理 15、参保人员满意度 10）。"]
    data["items-0-weight"] = "30"
    data["items-1-kpi_key"] = ""  # a measured item without its indicator: named
    formset = inlineformset_factory(AssessmentTemplate, AssessmentItem, form=ItemAdminForm, formset=ItemFormSet, extra=0)(
        data, instance=template, prefix="items")
    assert not formset.is_valid()
    assert formset.forms[1].non_field_errors() == ["考核项目“理赔时限”为指标计分：请选择指标。"]
    assert template.items.get(name="协议履行").weight == D("30.00")


def test_measured_item_scoring_rule():
    rule = AssessmentItem(name="理赔时限", weight=D("25"), kind="measured", kpi_key="claims.on_time_rate", full_at=D("98"),
                          points_per_unit=D("1"))
    assert services.score_measured(rule, D("98.00"))[0] == D("25")
    assert services.score_measured(rule, D("99.50"))[0] == D("25")
    assert services.score_measured(rule, D("95.50"))[0] == D("22.50")
    assert services.score_measured(rule, D("50.00"))[0] == D("0.00")  # 25 − 48: floor 0
    assert services.score_measured(rule, None)[0] == D("25")  # nothing paid in the period


# --- grades ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("deductions", "total", "grade", "passed"), [
    ([("协议履行", "-10")], D("90.00"), "优秀", True),
    ([("协议履行", "-10"), ("服务质量", "-1")], D("89.00"), "良好", True),
    ([("协议履行", "-20")], D("80.00"), "良好", True),
    ([("协议履行", "-21")], D("79.00"), "合格", True),
    ([("协议履行", "-30"), ("服务质量", "-10")], D("60.00"), "合格", True),
    ([("协议履行", "-30"), ("服务质量", "-11")], D("59.00"), "不合格", False),
])
def test_a_score_one_point_either_side_of_a_grade_boundary(sup, deductions, total, grade, passed):
    for name, points in deductions:
        record("tongliao-2025", name, points, user=sup)
    a = services.assessment_compute(contract=contract("tongliao-2025"), period_start=dt.date(2025, 1, 1),
                                    period_end=dt.date(2025, 11, 30), user=sup)
    assert (a.total, a.grade, a.passed, a.status) == (total, grade, passed, "draft")
    assert ItemScore.objects.get(assessment=a, item__name="理赔时限").points == D("25.00")  # no claim paid: full points


@pytest.mark.django_db
def test_inspected_points_stay_between_0_and_the_weight_and_count_only_the_period(sup):
    record("tongliao-2025", "财务管理", "-40", user=sup)  # more than its 15 points
    record("tongliao-2025", "参保人员满意度", "-2", user=sup)
    record("tongliao-2025", "参保人员满意度", "+5", user=sup)  # awarded back, capped at 10
    record("tongliao-2025", "服务质量", "-5", user=sup, on=dt.date(2025, 12, 5))  # after the period
    a = services.assessment_compute(contract=contract("tongliao-2025"), period_start=dt.date(2025, 1, 1),
                                    period_end=dt.date(2025, 11, 30), user=sup)
    scores = {s.item.name: s.points for s in a.scores.select_related("item")}
    assert scores == {"协议履行": D("30.00"), "理赔时限": D("25.00"), "服务质量": D("20.00"), "财务管理": D("0.00"),
                      "参保人员满意度": D("10.00")}
    assert a.total == D("85.00")


# --- outcome and money -------------------------------------------------------------------


@pytest.fixture
def tongliao_premium(fin_user):
    c = contract("tongliao-2025")
    fin.premium_schedule_generate(contract=c, user=fin_user, event_dates={"signing": dt.date(2025, 5, 8)})
    return c


@pytest.mark.django_db
def test_a_failed_assessment_opens_the_rereview_deadline_and_deducts_from_the_last_installment(sup, tongliao_premium):
    c = tongliao_premium
    last = c.premium_installments.get(seq=2)
    assert last.amount == D("50656093.11")  # 20 % of 253,280,465.55
    record("tongliao-2025", "协议履行", "-30", user=sup)
    record("tongliao-2025", "服务质量", "-11", user=sup)
    a = services.assessment_compute(contract=c, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 9, 19), user=sup)
    assert (a.total, a.grade) == (D("59.00"), "不合格")
    # decided on Friday 2025-09-19: 30 working days across the National Day holiday (10-01..10-08
    # off, 09-28 and 10-11 make-up working days) end on 2025-11-06 (weekdays alone: 10-31)
    a = services.assessment_decide(assessment=a, assessed_on=dt.date(2025, 9, 19), user=sup)
    assert (a.status, a.outcome, a.rereview_due) == ("decided", "rectify", dt.date(2025, 11, 6))
    deadline = Deadline.objects.get(kind="assessment_rereview", object_id=a.pk)
    assert (deadline.due_date, deadline.working_days, deadline.met_on, deadline.role, deadline.area_id) == (
        dt.date(2025, 11, 6), True, None, "supervisor", c.program.region_id)
    # (90 − 59) × 100,000.00 = 3,100,000.00, set off against installment no. 2
    assert a.deduction_amount == D("3100000.00")
    penalty = Penalty.objects.get(contract=c, kind="assessment_deduction")
    assert (a.penalty_id, penalty.amount, penalty.settled, penalty.imposed_on) == (penalty.pk, D("3100000.00"), D("3100000.00"),
                                                                                   dt.date(2025, 9, 19))
    entries = list(LedgerEntry.objects.filter(contract=c, reference=f"考核{a.pk}扣减").order_by("book"))
    assert [(e.book, e.kind, e.amount, e.booked_on) for e in entries] == [
        ("penalty", "settled", D("3100000.00"), dt.date(2025, 9, 19)), ("premium", "receipt", D("3100000.00"), dt.date(2025, 9, 19))]
    last.refresh_from_db()
    assert (last.received, last.outstanding) == (D("3100000.00"), D("47556093.11"))
    assert list(a.finance_entries) == sorted(entries, key=lambda e: e.pk)
    assert not SupervisionWarning.objects.filter(contract=c).exists()  # a first failure warns nobody off
    with pytest.raises(ValidationError):
        services.assessment_decide(assessment=a, assessed_on=dt.date(2025, 9, 22), user=sup)  # once only
    assert LedgerEntry.objects.filter(contract=c, reference=f"考核{a.pk}扣减").count() == 2


@pytest.mark.django_db
def test_a_deduction_above_the_installment_is_capped_and_a_good_grade_deducts_per_point_below_90(sup, tongliao_premium):
    c = tongliao_premium
    record("tongliao-2025", "协议履行", "-12", user=sup)  # 88 points, 良好: (90 − 88) × 100,000.00
    a = services.assessment_decide(assessment=services.assessment_compute(
        contract=c, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 11, 30), user=sup), assessed_on=dt.date(2025, 12, 1),
        user=sup)
    assert (a.outcome, a.deduction_amount, a.rereview_due) == ("pass", D("200000.00"), None)
    assert not Deadline.objects.filter(kind="assessment_rereview").exists()


@pytest.fixture
def taikang_deposit(fin_user):
    c = contract("taikang-2025")
    deposit = fin.deposit_open(contract=c, kind="annual", required=D("820005.00"), basis="年度保证金", user=fin_user)
    fin.deposit_record_payment(deposit=deposit, amount=D("820005.00"), paid_on=dt.date(2025, 3, 1), user=fin_user)
    return deposit


@pytest.mark.django_db
def test_a_passed_assessment_returns_the_deposit_once_the_cases_are_closed(sup, fin_user, taikang_deposit):
    c = contract("taikang-2025")
    compute = lambda: services.assessment_compute(contract=c, period_start=dt.date(2025, 1, 1),  # noqa: E731
                                                  period_end=dt.date(2025, 12, 31), user=sup)
    early = services.assessment_decide(assessment=compute(), assessed_on=dt.date(2026, 1, 5), user=sup)
    assert (early.outcome, early.deposit_entry, early.finance_note) == ("pass", None, "待本年度案件处理完毕且双方无异议后返还保证金。")
    taikang_deposit.refresh_from_db()
    assert taikang_deposit.held == D("820005.00")

    Assessment.objects.filter(pk=early.pk).delete()  # the authority decides again once the cases are closed
    fin.deposit_cases_closed(deposit=taikang_deposit, closed_on=dt.date(2026, 2, 10), objection=False, user=fin_user)
    a = services.assessment_decide(assessment=compute(), assessed_on=dt.date(2026, 2, 20), user=sup)
    entry = a.deposit_entry
    assert (entry.book, entry.kind, entry.amount, entry.booked_on, entry.reference) == (
        "deposit", "returned", D("-820005.00"), dt.date(2026, 2, 20), f"考核{a.pk}保证金")
    taikang_deposit.refresh_from_db()
    assert taikang_deposit.held == D("0.00")
    assert a.deduction_amount == D("0.00") and a.penalty is None  # Taikang's template deducts no premium


@pytest.mark.django_db
def test_a_failed_rereview_forfeits_the_deposit_and_warns_of_termination(sup, fin_user):
    c = contract("zhenping-2026")
    deposit = fin.deposit_open(contract=c, kind=GuaranteeDeposit.Kind.CONTRACT, required=D("193200.00"), basis="合同保证金",
                               user=fin_user)
    fin.deposit_record_payment(deposit=deposit, amount=D("193200.00"), paid_on=dt.date(2026, 3, 31), user=fin_user)
    record("zhenping-2026", "协议履行", "-30", user=sup, on=dt.date(2026, 6, 1))
    record("zhenping-2026", "财务管理", "-15", user=sup, on=dt.date(2026, 6, 1))
    first = services.assessment_compute(contract=c, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), user=sup)
    first = services.assessment_decide(assessment=first, assessed_on=dt.date(2027, 1, 8), user=sup)
    assert (first.total, first.outcome, first.deposit_entry) == (D("55.00"), "rectify", None)
    assert first.finance_note == "保证金在复核前继续保留。"
    deposit.refresh_from_db()
    assert deposit.held == D("193200.00")

    record("zhenping-2026", "财务管理", "+3", user=sup, on=dt.date(2027, 2, 1))  # rectified a little: still 58
    second = services.assessment_compute(contract=c, period_start=dt.date(2026, 1, 1), period_end=dt.date(2027, 2, 5),
                                         rereview_of=first, user=sup)
    second = services.assessment_decide(assessment=second, assessed_on=dt.date(2027, 2, 8), user=sup)
    assert (second.kind, second.total, second.grade, second.outcome) == ("rereview", D("58.00"), "不合格", "termination_warning")
    entry = second.deposit_entry
    assert (entry.kind, entry.amount, entry.reference) == ("forfeited", D("-193200.00"), f"考核{second.pk}保证金")
    deposit.refresh_from_db()
    assert deposit.held == D("0.00")
    warning = SupervisionWarning.objects.get(contract=c)
    assert (warning.kind, warning.assessment_id, warning.on_date) == ("termination", second.pk, dt.date(2027, 2, 8))
    deadline = Deadline.objects.get(kind="assessment_rereview", object_id=first.pk)
    assert deadline.met_on == dt.date(2027, 2, 8)
    with pytest.raises(ValidationError):  # one decided re-review per failure
        services.assessment_compute(contract=c, period_start=dt.date(2026, 1, 1), period_end=dt.date(2027, 2, 5),
                                    rereview_of=first, user=sup)


@pytest.mark.django_db
def test_a_passed_rereview_returns_the_deposit_and_meets_the_deadline(sup, fin_user):
    c = contract("zhenping-2026")
    deposit = fin.deposit_open(contract=c, kind="contract", required=D("1000.00"), basis="合同保证金", user=fin_user)
    fin.deposit_record_payment(deposit=deposit, amount=D("1000.00"), paid_on=dt.date(2026, 3, 31), user=fin_user)
    record("zhenping-2026", "协议履行", "-30", user=sup, on=dt.date(2026, 6, 1))
    record("zhenping-2026", "财务管理", "-15", user=sup, on=dt.date(2026, 6, 1))
    first = services.assessment_decide(assessment=services.assessment_compute(
        contract=c, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), user=sup),
        assessed_on=dt.date(2027, 1, 8), user=sup)
    record("zhenping-2026", "协议履行", "+20", user=sup, on=dt.date(2027, 2, 1))
    second = services.assessment_decide(assessment=services.assessment_compute(
        contract=c, period_start=dt.date(2026, 1, 1), period_end=dt.date(2027, 2, 5), rereview_of=first, user=sup),
        assessed_on=dt.date(2027, 2, 8), user=sup)
    assert (second.total, second.outcome, second.deposit_entry.kind, second.deposit_entry.amount) == (
        D("75.00"), "pass", "returned", D("-1000.00"))
    assert Deadline.objects.get(kind="assessment_rereview", object_id=first.pk).met_on == dt.date(2027, 2, 8)
    assert not SupervisionWarning.objects.filter(contract=c).exists()


# --- pages and scoping ---------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_pages_are_scoped_to_the_users_areas(sup, sup_tongliao, sup_horqin):
    taikang = contract("taikang-2025")
    foreign = services.assessment_compute(contract=taikang, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
                                          user=sup)
    kailu = record("tongliao-2025", "服务质量", "-2", user=sup, area=Area.objects.get(code=KAILU))
    horqin = record("tongliao-2025", "服务质量", "-1", user=sup, area=Area.objects.get(code=HORQIN))
    kailu_area = Area.objects.get(code=KAILU)
    SupervisionRecord.objects.filter(pk=kailu.pk).update(finding="开鲁县窗口无人值守")

    tl = client_for(sup_tongliao)
    assert tl.get("/supervision/assessments/contracts/taikang-2025/").status_code == 404
    assert tl.get(f"/supervision/assessments/{foreign.pk}/").status_code == 404
    assert tl.post(f"/supervision/assessments/{foreign.pk}/decide/", {"assessed_on": "2026-01-05"}).status_code == 404
    assert tl.get("/supervision/assessments/contracts/taikang-2025/run/").status_code == 404
    assert tl.get("/supervision/assessments/contracts/taikang-2025/records/add/").status_code == 404
    page = tl.get("/supervision/assessments/").content.decode()
    assert "通辽市城乡居民大病保险2025年度考核办法" in page and "太康" not in page
    assert tl.get("/supervision/assessments/contracts/tongliao-2025/").status_code == 200

    county = client_for(sup_horqin)
    assert county.get("/supervision/assessments/contracts/tongliao-2025/").status_code == 200
    assert county.get("/supervision/assessments/contracts/tongliao-2025/run/").status_code == 403
    assert county.post("/supervision/assessments/contracts/tongliao-2025/warning/", {"on_date": "2025-06-01", "reason": "x"}).status_code == 403
    records = county.get("/supervision/assessments/records/").content.decode()
    assert "发现问题" in records and "开鲁县窗口无人值守" not in records
    assert county.get(f"/supervision/assessments/records/{kailu.pk}/evidence/").status_code == 404
    assert county.get(f"/supervision/assessments/records/{horqin.pk}/evidence/").status_code == 404  # no file attached
    # the county supervisor records for their own county only
    form_page = county.get("/supervision/assessments/contracts/tongliao-2025/records/add/").content.decode()
    assert "科尔沁区" in form_page and "开鲁县" not in form_page
    before = SupervisionRecord.objects.count()
    response = county.post("/supervision/assessments/contracts/tongliao-2025/records/add/", {
        "item": item("tongliao-2025", "服务质量").pk, "area": kailu_area.pk, "on_date": "2025-06-03", "points": "-1", "finding": "越权"})
    assert response.status_code == 200 and SupervisionRecord.objects.count() == before
    response = county.post("/supervision/assessments/contracts/tongliao-2025/records/add/", {
        "item": item("tongliao-2025", "服务质量").pk, "area": Area.objects.get(code=HORQIN).pk, "on_date": "2025-06-03",
        "points": "-1", "finding": "窗口排队过长"})
    assert response.status_code == 302
    assert SupervisionRecord.objects.filter(area__code=HORQIN, finding="窗口排队过长", recorded_by=sup_horqin).count() == 1

    caseworker = client_for(UserFactory(role="caseworker", area_codes=[HORQIN]))
    assert caseworker.get("/supervision/assessments/").status_code == 403
    assert caseworker.get("/supervision/assessments/records/").status_code == 403


@pytest.mark.django_db
def test_the_run_and_decide_pages_show_scores_grade_outcome_and_the_finance_effect(sup_tongliao, fin_user, tongliao_premium):
    record("tongliao-2025", "协议履行", "-30", user=sup_tongliao)
    record("tongliao-2025", "服务质量", "-11", user=sup_tongliao)
    client = client_for(sup_tongliao)
    response = client.post("/supervision/assessments/contracts/tongliao-2025/run/",
                           {"period_start": "2025-01-01", "period_end": "2025-09-19", "rereview_of": ""})
    assert response.status_code == 302
    a = Assessment.objects.get(contract__code="tongliao-2025")
    page = client.get(response["Location"]).content.decode()
    assert "59.00" in page and "不合格" in page and "3,100,000.00" in page
    response = client.post(f"/supervision/assessments/{a.pk}/decide/", {"assessed_on": "2025-09-19"})
    assert response.status_code == 302
    page = client.get(f"/supervision/assessments/{a.pk}/").content.decode()
    assert "不合格：整改并复核" in page and "2025-11-06" in page and "-3,100,000.00" not in page
    assert page.count("3,100,000.00") >= 3  # the deduction and its two entries
    assert "tongliao-2025" not in page.replace('href="/supervision/assessments/contracts/tongliao-2025/"', "")
    # finance reads it, cannot decide or run
    finance = client_for(fin_user)
    assert finance.get(f"/supervision/assessments/{a.pk}/").status_code == 200
    assert finance.get("/supervision/assessments/contracts/tongliao-2025/run/").status_code == 403


# --- the KPI this app registers for itself (merged with h-dashboard's claim KPIs) ----------


@pytest.mark.django_db
def test_on_time_rate_counts_claims_paid_on_or_before_their_due_date(horqin_person, sup):
    import itertools

    from claims.models import Claim
    from insurance_admin.kpis import registry

    numbers = itertools.count(1)
    approver = UserFactory(role="reviewer", area_codes=["150500"])
    tongliao = contract("tongliao-2025")

    def paid(area, due, on):
        return Claim.objects.create(
            claim_no=f"KPI{next(numbers):05d}", contract=tongliao, person=horqin_person, area=Area.objects.get(code=area),
            registered_by=sup, status=Claim.Status.PAID, enddate=dt.date(2025, 9, 1), fixmedins_name="通辽市医院",
            place="in_region", bank_account="6228480000000000000", payable=D("100.00"), approved_by=approver,
            due_date=due, paid_on=on)

    paid(HORQIN, dt.date(2025, 10, 10), dt.date(2025, 10, 10))  # exactly on the limit: on time
    paid(HORQIN, dt.date(2025, 10, 10), dt.date(2025, 10, 11))  # one day late
    paid(KAILU, dt.date(2025, 10, 20), dt.date(2025, 10, 15))
    paid(HORQIN, dt.date(2025, 9, 1), dt.date(2025, 9, 30))  # late, but paid before the period
    kpi = registry.get("claims.on_time_rate").func
    october = (dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert kpi(tongliao, None, *october) == D("66.67")
    assert kpi(tongliao, ["150500"], *october) == D("66.67")  # the region takes its counties
    assert kpi(tongliao, [HORQIN], *october) == D("50.00")
    assert kpi(tongliao, [KAILU], *october) == D("100.00")
    assert kpi(tongliao, None, dt.date(2025, 11, 1), dt.date(2025, 11, 30)) is None
    a = services.assessment_compute(contract=tongliao, period_start=october[0], period_end=october[1], user=sup)
    score = a.scores.get(item__name="理赔时限")
    assert (score.value, score.points) == (D("66.67"), D("0.00"))  # 25 − (98 − 66.67) × 1 < 0: floor 0
    assert score.basis == "手工报销按时赔付率 66.67%，满分线 98%：25 − 31.33 × 1 = 0（最低0分）"
