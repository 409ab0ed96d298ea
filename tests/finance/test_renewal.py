"""Renewal of a contract into its next year (issue 22 item 2): a draft copy of every registered
terms model with the dates moved, changed through forms, validated naming the field, invisible
to enrollment and claims until activated; the old year stays readable and closable."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from claims.models import ClaimTerms
from claims.plan_forms import PlanFiguresForm
from finance import renewal
from insurance_admin.complaints.models import ComplaintTerms
from programs import services as program_services
from programs.contract_terms import register_terms, terms_models
from programs.models import Area, BenefitPlan, Contract, Enrollment, EnrollmentCarryForward
from programs.services import enrollment_carry_forward_run
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="adm_tl", role="administrator", area_codes=["150500"])


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def _plan_data(form, **changes):
    data = {f"plan-{name}": ("" if field.initial is None else str(field.initial)) for name, field in form.fields.items()}
    data.update({f"plan-{k}": v for k, v in changes.items()})
    return data


def _page_data(draft, *, plan=None, rates=None, **headcount):
    form = PlanFiguresForm(BenefitPlan.objects.get(contract=draft).rules)
    data = _plan_data(form, **(plan or {}))
    for rate in draft.premium_rates.all():
        data[f"premium-rate_{rate.pk}"] = str((rates or {}).get(rate.pk, rate.per_capita))
    hc = {"headcount_provisional": draft.headcount_provisional or "",
          "headcount_provisional_date": draft.headcount_provisional_date or "", "signed_on": ""}
    hc.update(headcount)
    data.update({f"hc-{k}": "" if v is None else str(v) for k, v in hc.items()})
    return data


# --- the date shift and the code ------------------------------------------------------------


def test_dates_move_by_one_year_and_29_february_becomes_28_february():
    assert renewal.shift_year(dt.date(2025, 12, 20)) == dt.date(2026, 12, 20)
    assert renewal.shift_year(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert renewal.shift_year(dt.date(2027, 2, 28)) == dt.date(2028, 2, 28)
    assert renewal.shift_year(None) is None


def test_the_next_code_follows_the_seed_pattern(tongliao):
    assert renewal.next_code(tongliao) == "tongliao-2026"
    assert renewal.next_code(Contract.objects.get(code="beijing-chaoyang-2026")) == "beijing-chaoyang-2027"
    odd = Contract(code="xian-a", year=2025)
    assert renewal.next_code(odd) == "xian-a-2026"


def test_every_supervision_claims_and_finance_terms_model_is_registered():
    labels = {tm.model._meta.label for tm in terms_models()}
    assert labels >= {"programs.PremiumRate", "programs.BenefitPlan", "claims.ClaimTerms", "claims.DocumentRequirement",
                      "claims.HospitalSettlementTerms", "finance.FinanceTerms", "complaints.ComplaintTerms",
                      "staffing.StaffingCommitment", "reporting.ReportTerm", "assessments.AssessmentTemplate"}
    template = next(tm for tm in terms_models() if tm.model._meta.label == "assessments.AssessmentTemplate")
    assert template.children == ("items", "grades")
    register_terms(ClaimTerms)  # registering twice keeps one entry
    assert [tm.model._meta.label for tm in terms_models()].count("claims.ClaimTerms") == 1


# --- the copy --------------------------------------------------------------------------------


def _fields(row):
    return [f for f in row._meta.concrete_fields if not renewal._skipped(f)]


def test_renewal_copies_every_term_field_by_field_with_the_dates_moved(admin_user, tongliao):
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    assert (draft.code, draft.year, draft.status) == ("tongliao-2026", 2026, "draft")
    assert (draft.period_start, draft.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert draft.signed_on is None
    # the Tongliao service cycle 2025–2027 continues
    assert (draft.service_cycle_start, draft.service_cycle_end) == (tongliao.service_cycle_start, tongliao.service_cycle_end)
    assert "2026" in draft.name and "2025" not in draft.name
    assert draft.headcount_provisional == tongliao.headcount_provisional
    assert draft.renewed_from == tongliao

    compared = 0
    old_terms = dict((tm.model._meta.label, rows) for tm, rows in renewal.contract_terms(tongliao))
    for tm, rows in renewal.contract_terms(draft):
        old_rows = old_terms[tm.model._meta.label]
        assert len(rows) == len(old_rows), tm.model._meta.label
        # every kind of terms is there to copy, except member services, which only Beijing has
        assert old_rows or tm.model._meta.label == "claims.EntitlementGroup", tm.model._meta.label
        for old, new in zip(old_rows, rows, strict=True):
            assert getattr(new, tm.fk) == draft and new.pk != old.pk
            for field in _fields(new):
                if field.name == tm.fk:
                    continue
                before, after = getattr(old, field.attname), getattr(new, field.attname)
                if renewal._is_date(field):
                    if field.name in renewal.CLEARED_ON_RENEWAL.get(tm.model._meta.label, ()):
                        assert after is None, (tm.model._meta.label, field.name)
                    else:
                        assert after == renewal.shift_year(before), (tm.model._meta.label, field.name)
                elif tm.model._meta.label == "programs.BenefitPlan" and field.name in ("rules", "version"):
                    continue
                else:
                    assert after == before, (tm.model._meta.label, field.name)
                compared += 1
            for relation in tm.children:
                old_children = list(getattr(old, relation).order_by("pk"))
                new_children = list(getattr(new, relation).order_by("pk"))
                assert len(new_children) == len(old_children) > 0, relation
                for a, b in zip(old_children, new_children, strict=True):
                    for field in _fields(b):
                        if not field.is_relation:
                            assert getattr(b, field.attname) == getattr(a, field.attname), (relation, field.name)
                            compared += 1
    assert compared > 60
    # the program's document checklist is shared by its years, not copied
    assert "claims.DocumentRequirement" not in old_terms


def test_the_plan_moves_code_year_period_and_every_selector_date(admin_user, tongliao):
    old_rules = BenefitPlan.objects.get(contract=tongliao).rules
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    plan = BenefitPlan.objects.get(contract=draft)
    assert plan.version == 1
    plan.full_clean()  # the engine's validate_plan and the contract's code/period agree

    def walk(a, b, path=""):
        if isinstance(a, dict):
            assert set(a) == set(b), path
            for key in a:
                if key == "code" and path == "":
                    assert (a[key], b[key]) == ("tongliao-2025", "tongliao-2026")
                elif key == "year" and path == "":
                    assert b[key] == a[key] + 1
                elif key in renewal.PLAN_DATE_KEYS:
                    assert b[key] == renewal.shift_year(dt.date.fromisoformat(a[key])).isoformat(), path + key
                elif key == "name" and path == "":
                    assert b[key] == a[key].replace("2025", "2026")
                else:
                    walk(a[key], b[key], f"{path}/{key}")
        elif isinstance(a, list):
            assert len(a) == len(b), path
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        else:
            assert a == b, path

    walk(old_rules, plan.rules)


def test_renewing_twice_opens_the_same_draft_and_an_active_next_year_is_refused(admin_user, tongliao):
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    assert renewal.renewal_create(contract=tongliao, user=admin_user) == draft
    renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=False)
    with pytest.raises(Exception, match="已存在"):
        renewal.renewal_create(contract=tongliao, user=admin_user)


# --- changes, validation, activation ---------------------------------------------------------


def test_only_what_was_changed_changes_and_the_diff_names_it(client, admin_user, tongliao):
    client.force_login(admin_user)
    response = client.post(reverse("renewal_start", args=["tongliao-2025"]))
    assert response.status_code == 302 and response["Location"] == reverse("renewal", args=["tongliao-2026"])
    draft = Contract.objects.get(code="tongliao-2026")
    rate = draft.premium_rates.get()
    data = _page_data(draft, plan={"l0_r0_b0_rate": "65"}, rates={rate.pk: "130.00"}, headcount_provisional=2300000)
    response = client.post(reverse("renewal", args=["tongliao-2026"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    rate.refresh_from_db()
    assert rate.per_capita == Decimal("130.00")
    plan = BenefitPlan.objects.get(contract=draft)
    assert plan.rules["liabilities"][0]["schedule"][0]["bands"][0]["rate"] == "0.65"
    assert plan.version == 2
    with translation.override("zh-hans"):
        changes = renewal.renewal_changes(Contract.objects.get(pk=draft.pk))
    assert len(changes) == 3, changes
    rate_change = next(c for c in changes if c.after == "130.00")
    assert rate_change.before == "114.23"
    band = next(c for c in changes if "第 1 档" in c.label)
    assert (band.before, band.after) == ("60.00", "65.00") and "大病保险" in band.label
    head = next(c for c in changes if c.after == "2,300,000")
    assert head.before == f"{tongliao.headcount_provisional:,}"
    # every other row of every terms model is still last year's
    old_terms = dict((tm.model._meta.label, rows) for tm, rows in renewal.contract_terms(tongliao))
    for tm, rows in renewal.contract_terms(draft):
        if tm.model._meta.label in ("programs.PremiumRate", "programs.BenefitPlan"):
            continue
        for old, new in zip(old_terms[tm.model._meta.label], rows, strict=True):
            for field in _fields(new):
                if field.name != tm.fk:
                    assert getattr(new, field.attname) == renewal.renewed_value(old, field, tongliao, draft), field.name

    page = client.get(reverse("renewal", args=["tongliao-2026"]))
    text = re.sub(r"<[^>]+>", " ", page.content.decode())
    assert "与上一年度相比的变化" in text and "130.00" in text
    assert "tongliao-2026" not in text and "tongliao-2025" not in text  # no contract code shown
    assert '"liabilities"' not in page.content.decode()  # no raw JSON: the plan is shown as fields
    # the cut-off date is shown as the date input reads it (and so survives the next save)
    assert f'value="{renewal.shift_year(tongliao.headcount_provisional_date).isoformat()}"' in page.content.decode()
    assert "E+" not in page.content.decode()


def test_invalid_figures_are_refused_naming_the_field(client, admin_user, tongliao):
    client.force_login(admin_user)
    client.post(reverse("renewal_start", args=["tongliao-2025"]))
    draft = Contract.objects.get(code="tongliao-2026")
    rate = draft.premium_rates.get()
    with translation.override("zh-hans"):
        response = client.post(reverse("renewal", args=["tongliao-2026"]), _page_data(
            draft, plan={"l0_r0_b1_upto": "20000"}, rates={rate.pk: "-5"}), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.content.decode()
    assert "大病保险" in body and "第 2 档" in body and "重叠" in body
    assert "人均保费" in body
    assert BenefitPlan.objects.get(contract=draft).version == 1  # nothing written
    assert draft.premium_rates.get().per_capita == Decimal("114.23")


def test_validation_names_the_terms_and_field_and_activation_is_refused(admin_user, tongliao):
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    assert renewal.renewal_problems(draft) == []
    ComplaintTerms.objects.filter(contract=draft).update(simple_days=400)  # validators: 1–365 working days
    ClaimTerms.objects.filter(contract=draft).update(deadline_unit="fortnights")
    with translation.override("zh-hans"):
        problems = renewal.renewal_problems(draft)
        complaint = f"{ComplaintTerms._meta.verbose_name} · {ComplaintTerms._meta.get_field('simple_days').verbose_name}："
        assert any(p.startswith(complaint) and "365" in p for p in problems), problems
        assert any(p.startswith("理赔约定 · 时限单位：") for p in problems), problems
        assert len(problems) == 2, problems
        with pytest.raises(Exception) as exc:
            renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=False)
    assert complaint in " ".join(exc.value.messages)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_draft_is_invisible_to_enrollment_claims_and_trial(client, admin_user, tongliao, caseworker):
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    person = PersonFactory(area_code="150502")
    # an enrollment put in by hand (a draft gets none through the pages) is still not usable
    Enrollment.objects.create(person=person, contract=draft, area=Area.objects.get(code="150502"),
                              enrolled_from=draft.period_start)
    assert draft not in Contract.objects.for_user(admin_user)
    assert draft not in Contract.objects.for_user(caseworker)
    assert draft in Contract.objects.for_user(admin_user, drafts=True)
    client.force_login(caseworker)
    assert client.get(reverse("trial", args=[person.pk, "tongliao-2026"])).status_code == 404
    assert client.get(reverse("claim_register", args=[person.pk, "tongliao-2026"])).status_code == 404
    home = client.get(reverse("home") + "?year=2026").content.decode()
    assert draft.name not in home
    client.force_login(admin_user)
    imports = client.get(reverse("import_batch_list")).content.decode()
    assert f'value="{draft.pk}"' not in imports and f'value="{tongliao.pk}"' in imports
    batches = client.get(reverse("hospital_batch_list")).content.decode()
    assert f'value="{draft.pk}"' not in batches
    assert client.get(reverse("contract_headcount", args=["tongliao-2026"])).status_code == 404
    assert client.get(reverse("renewal", args=["tongliao-2026"])).status_code == 200


def test_activation_carries_the_list_forward_and_the_new_year_is_usable(client, admin_user, tongliao, caseworker,
                                                                        django_capture_on_commit_callbacks):
    in_force = EnrollmentFactory(person=PersonFactory(area_code="150502"), category="special", category_detail="低保")
    exited = EnrollmentFactory(person=PersonFactory(area_code="150502"), status="terminated",
                               enrolled_to=dt.date(2025, 6, 30))
    client.force_login(admin_user)
    client.post(reverse("renewal_start", args=["tongliao-2025"]))
    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(reverse("renewal_activate", args=["tongliao-2026"]), {"enrollments": "roll"})
    assert response.status_code == 302 and response["Location"] == reverse("contract_headcount", args=["tongliao-2026"])
    new = Contract.objects.get(code="tongliao-2026")
    # the roll-forward is a job enqueued on commit; nothing is written until the worker runs it
    carry = EnrollmentCarryForward.objects.get(target=new)
    assert len(enqueued) == 1 and not Enrollment.objects.filter(contract=new).exists()
    assert (carry.progress_total, carry.progress_done, carry.finished) == (
        Enrollment.objects.filter(contract=tongliao, status="active").count(), 0, False)
    progress = client.get(reverse("carry_forward_progress", args=["tongliao-2026"])).json()
    assert (progress["percent"], progress["finished"]) == (0, False)
    page = client.get(reverse("contract_headcount", args=["tongliao-2026"])).content.decode()
    assert 'id="carry-forward-progress" data-job-progress' in page and 'data-finished="0"' in page and "<progress" in page
    enrollment_carry_forward_run(carry_id=carry.pk)  # what the worker does
    progress = client.get(reverse("carry_forward_progress", args=["tongliao-2026"])).json()
    assert (progress["percent"], progress["finished"]) == (100, True)
    page = client.get(reverse("contract_headcount", args=["tongliao-2026"])).content.decode()
    assert "<progress" not in page
    assert new.status == "active"
    rolled = Enrollment.objects.get(contract=new, person=in_force.person)
    assert (rolled.enrolled_from, rolled.category, rolled.category_detail, rolled.area_id) == (
        dt.date(2026, 1, 1), "special", "低保", in_force.area_id)
    assert not Enrollment.objects.filter(contract=new, person=exited.person).exists()
    assert Enrollment.objects.filter(contract=new).count() == Enrollment.objects.filter(contract=tongliao, status="active").count()
    client.force_login(caseworker)
    assert client.get(reverse("trial", args=[in_force.person.pk, "tongliao-2026"])).status_code == 200
    # the old year stays readable
    assert client.get(reverse("trial", args=[in_force.person.pk, "tongliao-2025"])).status_code == 200


def test_activation_without_the_list_waits_for_it(admin_user, tongliao):
    EnrollmentFactory()
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    result = renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=False)
    assert result.enrollments == 0 and not Enrollment.objects.filter(contract=draft).exists()


def test_closing_a_year_keeps_it_readable_and_late_claims_within_the_filing_window(admin_user):
    from claims.registration import claim_register, requirements_for

    zhenping = Contract.objects.get(code="zhenping-2026")
    with pytest.raises(Exception, match="尚未结束"):
        renewal.contract_close(contract=zhenping, user=admin_user, today=dt.date(2026, 12, 31))
    closed = renewal.contract_close(contract=zhenping, user=admin_user, today=dt.date(2027, 1, 4))
    assert closed.status == "closed"
    assert zhenping in Contract.objects.for_user(UserFactory(role="administrator", area_codes=["411324"]))  # readable
    worker = UserFactory(role="caseworker", area_codes=["411324"])
    person = PersonFactory(area_code="411324")
    EnrollmentFactory(person=person, contract=zhenping, area=Area.objects.get(code="411324"))
    today = dt.date(2027, 6, 1)  # within Zhenping's 12-month filing window
    claim = claim_register(
        user=worker, person=person, contract=zhenping, claim_kind="inpatient", place="in_region",
        fixmedins_code="H41132400001", fixmedins_name="镇平县人民医院", begndate=dt.date(2026, 5, 1),
        enddate=dt.date(2026, 5, 20), received_on=today, today=today,
        records=[{"setl_id": "Z-LATE", "medfee_sumamt": Decimal("90000"), "inscp_scp_amt": Decimal("90000"),
                  "hifp_pay": Decimal("60000"), "over_cap_amt": Decimal("10000.00")}],
        documents=requirements_for(program=zhenping.program, claim_kind="inpatient", place="in_region"),
    )
    assert claim.contract == zhenping
    with pytest.raises(Exception, match="生效中"):
        renewal.contract_close(contract=closed, user=admin_user, today=dt.date(2027, 1, 4))


def test_only_administrators_renew_and_close(client, caseworker, tongliao):
    client.force_login(caseworker)
    assert client.post(reverse("renewal_start", args=["tongliao-2025"])).status_code == 403
    assert client.post(reverse("contract_close", args=["tongliao-2025"])).status_code == 403
    assert not Contract.objects.filter(code="tongliao-2026").exists()


def test_another_regions_administrator_gets_404(client, tongliao):
    other = UserFactory(role="administrator", area_codes=["411324"])
    client.force_login(other)
    assert client.post(reverse("renewal_start", args=["tongliao-2025"])).status_code == 404
    assert not Contract.objects.filter(code="tongliao-2026").exists()


def test_the_administrator_closes_an_ended_year_from_its_page_and_it_stays_readable(client, admin_user, tongliao):
    client.force_login(admin_user)
    page = client.get(reverse("contract_headcount", args=["tongliao-2025"])).content.decode()
    assert "续签下一年度" in page and "结束年度" in page  # 2025 has ended (today is after 2025-12-31)
    response = client.post(reverse("contract_close", args=["tongliao-2025"]))
    assert response.status_code == 302
    tongliao.refresh_from_db()
    assert tongliao.status == "closed"
    page = client.get(reverse("contract_headcount", args=["tongliao-2025"])).content.decode()
    assert "年度已结束" in page and "<button type=\"submit\">结束年度" not in page
    # a closed year can still be renewed (its successor is prepared after the year ended)
    assert client.post(reverse("renewal_start", args=["tongliao-2025"])).status_code == 302
    assert Contract.objects.get(code="tongliao-2026").status == "draft"


def test_carrying_forward_writes_each_enrollment_once_with_its_history(admin_user, tongliao):
    import time

    from programs.services import enrollments_carry_forward

    area = Area.objects.get(code="150502")
    persons = [PersonFactory(area_code="150502") for _ in range(300)]
    Enrollment.objects.bulk_create([Enrollment(person=p, contract=tongliao, area=area, enrolled_from=tongliao.period_start,
                                               student=i % 7 == 0) for i, p in enumerate(persons)])
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    started = time.perf_counter()
    assert enrollments_carry_forward(source=tongliao, target=draft, on=draft.period_start, chunk_size=128) == 300
    elapsed = time.perf_counter() - started
    new = Enrollment.objects.filter(contract=draft)
    assert new.count() == 300 and new.filter(student=True).count() == 43
    assert set(new.values_list("enrolled_from", flat=True)) == {dt.date(2026, 1, 1)}
    assert Enrollment.history.filter(contract_id=draft.pk, history_type="+").count() == 300
    with pytest.raises(Exception, match="已有参保登记"):
        enrollments_carry_forward(source=tongliao, target=draft, on=draft.period_start)
    assert elapsed < 30


def test_renewal_copies_member_services_with_their_kinds(admin_user):
    from claims.models import EntitlementGroup

    beijing = Contract.objects.get(code="beijing-chaoyang-2026")
    draft = renewal.renewal_create(contract=beijing, user=admin_user)
    old = [(g.code, g.name, g.yearly_count_limit, g.per_use_cap, [k.name for k in g.kinds.order_by("position")])
           for g in EntitlementGroup.objects.filter(contract=beijing).order_by("position")]
    new = [(g.code, g.name, g.yearly_count_limit, g.per_use_cap, [k.name for k in g.kinds.order_by("position")])
           for g in EntitlementGroup.objects.filter(contract=draft).order_by("position")]
    assert new == old and len(new) == 3 and new[0][4][0] == "就医陪护"


def _last_years_list(tongliao, n: int) -> list:
    area = Area.objects.get(code="150502")
    persons = [PersonFactory(area_code="150502") for _ in range(n)]
    Enrollment.objects.bulk_create([Enrollment(person=p, contract=tongliao, area=area, enrolled_from=tongliao.period_start,
                                               category="special" if i % 4 == 0 else "ordinary") for i, p in enumerate(persons)])
    # not carried forward: an exit before the year's end, a cancelled policy
    EnrollmentFactory(person=PersonFactory(area_code="150502"), status="terminated", enrolled_to=dt.date(2025, 6, 30))
    EnrollmentFactory(person=PersonFactory(area_code="150502"), status="cancelled")
    return persons


def test_a_carry_forward_broken_halfway_loses_only_its_chunk_and_the_rerun_completes_it_once(
        admin_user, tongliao, monkeypatch, django_capture_on_commit_callbacks):
    persons = _last_years_list(tongliao, 250)
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    with django_capture_on_commit_callbacks() as enqueued:
        result = renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=True)
    carry = result.carry_forward
    assert len(enqueued) == 1 and carry.progress_total == 250

    # the worker dies in the third chunk, after that chunk's rows were written, before its commit
    calls = []

    def dies(rows):
        calls.append(rows)
        if len(calls) == 3:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(program_services, "_carry_chunk_written", dies)
    with pytest.raises(RuntimeError):
        enrollment_carry_forward_run(carry_id=carry.pk, chunk_size=100)
    carry.refresh_from_db()
    new = Enrollment.objects.filter(contract=draft)
    assert calls == [100, 100, 50]
    assert new.count() == 200 and carry.progress_done == 200 and not carry.finished  # the broken chunk left nothing
    assert Enrollment.history.filter(contract_id=draft.pk).count() == 200
    assert carry.error == "参保登记结转中断；再次运行时从中断处继续，不会重复登记。"

    monkeypatch.undo()
    assert enrollment_carry_forward_run(carry_id=carry.pk, chunk_size=100).finished
    carry.refresh_from_db()
    assert (carry.progress_done, carry.progress_total, carry.percent, carry.error) == (250, 250, 100, "")
    assert new.count() == 250 and new.values("person").distinct().count() == 250
    assert set(new.values_list("person_id", flat=True)) == {p.pk for p in persons}
    assert new.filter(category="special").count() == 63
    assert set(new.values_list("enrolled_from", "status")) == {(dt.date(2026, 1, 1), "active")}
    assert Enrollment.history.filter(contract_id=draft.pk, history_type="+").count() == 250
    assert Enrollment.history.filter(contract_id=draft.pk).values("id").distinct().count() == 250
    # a redelivered task finds the job done and writes nothing
    assert enrollment_carry_forward_run(carry_id=carry.pk) is None
    assert new.count() == 250


def test_a_rerun_over_rows_written_without_advancing_the_cursor_writes_nobody_twice(admin_user, tongliao):
    """Belt and braces: even with the cursor lost (rows committed, cursor at 0), nobody is doubled."""
    _last_years_list(tongliao, 30)
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    carry = renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=True).carry_forward
    enrollment_carry_forward_run(carry_id=carry.pk, chunk_size=7)
    EnrollmentCarryForward.objects.filter(pk=carry.pk).update(finished_at=None, cursor=0, progress_done=0)
    assert enrollment_carry_forward_run(carry_id=carry.pk, chunk_size=7).progress_done == 30
    assert Enrollment.objects.filter(contract=draft).count() == 30
    assert Enrollment.history.filter(contract_id=draft.pk).count() == 30


def test_activation_cannot_roll_forward_twice(admin_user, tongliao):
    _last_years_list(tongliao, 3)
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    carry = renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=True).carry_forward
    with translation.override("zh-hans"), pytest.raises(Exception, match="已有参保登记"):
        program_services.enrollment_carry_forward_start(source=tongliao, target=draft, on=draft.period_start, user=admin_user)
    assert EnrollmentCarryForward.objects.filter(target=draft).count() == 1 and carry.progress_total == 3


def test_the_progress_endpoint_needs_the_renewal_permission_and_the_region(client, admin_user, tongliao):
    _last_years_list(tongliao, 2)
    draft = renewal.renewal_create(contract=tongliao, user=admin_user)
    renewal.renewal_activate(contract=draft, user=admin_user, roll_forward=True)
    url = reverse("carry_forward_progress", args=["tongliao-2026"])
    client.force_login(UserFactory(role="caseworker", area_codes=["150500"]))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(role="administrator", area_codes=["411324"]))
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).json() == {"done": "0", "total": "2", "percent": 0, "finished": False, "error": ""}
