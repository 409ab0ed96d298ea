"""The premium terms as data (issue 22): installment rules are rows of `finance.InstallmentRule`,
seeded by migration from the seed plans, validated with the field named, edited in the admin;
the per-capita premium is read from `programs.PremiumRate` only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.urls import reverse
from django.utils import translation

from finance import services
from finance.calculations.seed import PER_CAPITA, PREMIUM_PLANS
from finance.forms import InstallmentRuleFormSet
from finance.models import FinanceTerms, InstallmentRule, installment_rules_problem
from finance.selectors import per_capita_of
from programs.models import Contract, PremiumRate
from tests.factories import UserFactory

SEED_CODES = ["tongliao-2025", "taikang-2025", "zhenping-2026", "beijing-chaoyang-2026"]


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("code", SEED_CODES)
def test_the_seeded_rows_are_the_seed_plan_and_the_rates_the_seed_per_capita(code):
    terms = FinanceTerms.objects.get(contract__code=code)
    rules = tuple(rule.as_rule() for rule in terms.installment_rules.order_by("seq"))
    assert rules == PREMIUM_PLANS[code].rules
    assert tuple(terms.premium_notes.splitlines()) == PREMIUM_PLANS[code].notes
    assert per_capita_of(terms.contract) == PER_CAPITA[code]


@pytest.mark.django_db
def test_the_seeded_rows_quote_the_contract():
    rows = InstallmentRule.objects.filter(terms__contract__code="zhenping-2026").order_by("seq")
    assert [(r.seq, r.share, r.takes_remainder, r.due_kind, r.due_month, r.due_day) for r in rows] == [
        (1, D("0.4000"), False, "fixed_date", 3, 31), (2, D("0.3000"), False, "fixed_date", 6, 30),
        (3, None, True, "fixed_date", 12, 31)]
    assert rows[0].clause == "第一次于2026年3月31日前支付总保费的40%（第九条）"
    beijing = InstallmentRule.objects.get(terms__contract__code="beijing-chaoyang-2026")
    assert beijing.due_kind == "latest_of"
    assert beijing.due_parts == [{"kind": "working_days_after", "days": 5, "event": "fiscal_funds_arrived"},
                                 {"kind": "working_days_after", "days": 10, "event": "invoice_received"}]


@pytest.mark.django_db
def test_a_changed_rate_and_rule_change_the_next_schedule(finance_user):
    """The schedule follows the rows, not code: Taikang at 160 a head in thirds (3/6/9 month ends)."""
    contract = Contract.objects.get(code="taikang-2025")
    PremiumRate.objects.filter(contract=contract).update(per_capita=D("160.00"))
    terms = FinanceTerms.objects.get(contract=contract)
    terms.installment_rules.all().delete()
    for seq, month in ((1, 3), (2, 6)):
        InstallmentRule.objects.create(terms=terms, seq=seq, share=D("0.3333"), due_kind="within_month", due_month=month)
    InstallmentRule.objects.create(terms=terms, seq=3, takes_remainder=True, due_kind="within_month", due_month=9)
    schedule = services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 1000}})
    assert schedule.total == D("160000.00")
    assert [(i.seq, i.amount, str(i.due_date)) for i in schedule.installments.order_by("seq")] == [
        (1, D("53328.00"), "2025-03-31"), (2, D("53328.00"), "2025-06-30"), (3, D("53344.00"), "2025-09-30")]


@pytest.mark.django_db
def test_a_contract_without_rows_is_refused_by_name(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    InstallmentRule.objects.filter(terms__contract=contract).delete()
    with pytest.raises(ValidationError) as exc:
        services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 1}})
    assert exc.value.messages == ["本协议的财务条款中没有保费分期规则。"]
    PremiumRate.objects.filter(contract=contract).delete()
    with pytest.raises(ValidationError) as exc:
        services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 1}})
    assert exc.value.messages == ["本协议没有登记筹资标准（人均保费）。"]


# --- one row refused, the field named ------------------------------------------------------


def _errors(**fields) -> dict[str, list[str]]:
    rule = InstallmentRule(terms=FinanceTerms(), seq=1, **fields)
    with pytest.raises(ValidationError) as exc:
        rule.clean()
    return exc.value.message_dict


@pytest.mark.parametrize(("fields", "errors"), [
    ({"due_kind": "fixed_date", "due_month": 3, "due_day": 31},
     {"share": ["请填写「保费比例」，或勾选「取余额」。"]}),
    ({"share": D("-0.1"), "due_kind": "fixed_date", "due_month": 3, "due_day": 31},
     {"share": ["「保费比例」须大于0且不超过1（即100%）。"]}),
    ({"share": D("1.2"), "due_kind": "fixed_date", "due_month": 3, "due_day": 31},
     {"share": ["「保费比例」须大于0且不超过1（即100%）。"]}),
    ({"share": D("0.5"), "takes_remainder": True, "due_kind": "within_month", "due_month": 9},
     {"share": ["勾选「取余额」的分期不填写「保费比例」。"]}),
    ({"share": D("0.5"), "due_kind": "days_after", "due_days": -3, "due_event": "signing"},
     {"due_days": ["「天数」不能为负数。"]}),
    ({"share": D("0.5"), "due_kind": "working_days_after", "due_event": "signing"},
     {"due_days": ["请填写「天数」。"]}),
    ({"share": D("0.5"), "due_kind": "working_days_after", "due_days": 5},
     {"due_event": ["请选择「起算事件」。"]}),
    ({"share": D("0.5"), "due_kind": "working_days_after", "due_days": 5, "due_event": "funds_promised"},
     {"due_event": ["「起算事件」“funds_promised”不存在：到期规则只能从协议签订、财政资金到位、收到发票起算。"]}),
    ({"share": D("0.5"), "due_kind": "fixed_date", "due_month": 2, "due_day": 30},
     {"due_day": ["「月份」「日」：2月30日不是有效日期。"]}),
    ({"share": D("0.5"), "due_kind": "within_month", "due_month": 13},
     {"due_month": ["「月份」须为1至12。"]}),
    ({"share": D("0.5"), "due_kind": "fixed_date", "due_day": 1},
     {"due_month": ["请填写「月份」（1至12）。"]}),
])
def test_a_rule_is_refused_with_the_field_named(fields, errors):
    assert _errors(**fields) == errors


@pytest.mark.parametrize(("parts", "message"), [
    ([{"kind": "working_days_after", "days": 5, "event": "fiscal_funds_arrived"}],
     "「条件（以较晚者为准）」须列出至少两个条件。"),
    ([{"kind": "working_days_after", "days": 5, "event": "fiscal_funds_arrived"},
      {"kind": "working_days_after", "days": 10, "event": "invoice_sent"}],
     "「条件（以较晚者为准）」第2项：「起算事件」“invoice_sent”不存在：到期规则只能从协议签订、财政资金到位、收到发票起算。"),
    ([{"kind": "working_days_after", "days": -5, "event": "fiscal_funds_arrived"},
      {"kind": "fixed_date", "month": 12, "day": 31}],
     "「条件（以较晚者为准）」第1项：「天数」不能为负数。"),
    ([{"kind": "someday"}, {"kind": "fixed_date", "month": 12, "day": 31}],
     "「条件（以较晚者为准）」第1项：须注明类型（fixed_date、within_month、days_after 或 working_days_after）。"),
])
def test_the_later_of_several_is_refused_naming_the_condition(parts, message):
    assert _errors(share=D("1"), due_kind="latest_of", due_parts=parts) == {"due_parts": [message]}


# --- the rules of a contract together ---------------------------------------------------------


def _rule(seq, share=None, remainder=False):
    return InstallmentRule(seq=seq, share=share, takes_remainder=remainder, due_kind="within_month", due_month=seq)


@pytest.mark.parametrize(("rules", "message"), [
    ([_rule(1, D("0.5")), _rule(2, D("0.4"))],
     "各期「保费比例」合计90%，不是100%：请更正比例，或让其中一期勾选「取余额」。"),
    ([_rule(1, D("0.8")), _rule(2, D("0.3"))],
     "各期「保费比例」合计110%，不是100%：请更正比例，或让其中一期勾选「取余额」。"),
    ([_rule(1, D("0.6")), _rule(2, D("0.4")), _rule(3, remainder=True)],
     "各期「保费比例」合计100%，「取余额」的分期已无余额可取。"),
    ([_rule(1, remainder=True), _rule(2, remainder=True)], "只能有一期勾选「取余额」。"),
    ([], "请至少填写一期保费。"),
])
def test_shares_not_making_the_whole_are_refused(rules, message):
    assert installment_rules_problem(rules) == message


def test_shares_making_the_whole_pass():
    assert installment_rules_problem([_rule(1, D("0.4")), _rule(2, D("0.6"))]) is None
    assert installment_rules_problem([_rule(1, D("0.8")), _rule(2, remainder=True)]) is None


FIELDS = ("seq", "share", "takes_remainder", "due_kind", "due_month", "due_day", "due_days", "due_event", "due_parts", "note", "clause")


def _formset_data(terms, shares):
    rows = list(terms.installment_rules.order_by("seq"))
    data = {"installment_rules-TOTAL_FORMS": str(len(rows)), "installment_rules-INITIAL_FORMS": str(len(rows)),
            "installment_rules-MIN_NUM_FORMS": "1", "installment_rules-MAX_NUM_FORMS": "1000"}
    for n, (row, share) in enumerate(zip(rows, shares, strict=True)):
        data.update({f"installment_rules-{n}-id": str(row.pk), f"installment_rules-{n}-terms": str(terms.pk),
                     f"installment_rules-{n}-seq": str(row.seq), f"installment_rules-{n}-share": share,
                     f"installment_rules-{n}-due_kind": row.due_kind, f"installment_rules-{n}-due_month": str(row.due_month or ""),
                     f"installment_rules-{n}-due_day": str(row.due_day or ""), f"installment_rules-{n}-due_days": "",
                     f"installment_rules-{n}-due_event": "", f"installment_rules-{n}-due_parts": "[]",
                     f"installment_rules-{n}-note": row.note, f"installment_rules-{n}-clause": row.clause})
        if row.takes_remainder and not share:
            data[f"installment_rules-{n}-takes_remainder"] = "on"
    return data


@pytest.mark.django_db
def test_the_admin_formset_refuses_shares_off_the_whole_and_saves_nothing():
    terms = FinanceTerms.objects.get(contract__code="zhenping-2026")
    factory = inlineformset_factory(FinanceTerms, InstallmentRule, formset=InstallmentRuleFormSet, fields=FIELDS, extra=0)
    formset = factory(_formset_data(terms, ["0.4", "0.3", "0.2"]), instance=terms, prefix="installment_rules")
    assert not formset.is_valid()
    assert formset.non_form_errors() == ["各期「保费比例」合计90%，不是100%：请更正比例，或让其中一期勾选「取余额」。"]
    formset = factory(_formset_data(terms, ["0.4", "0.3", ""]), instance=terms, prefix="installment_rules")
    assert formset.is_valid(), formset.errors
    formset = factory(_formset_data(terms, ["0.4", "-0.3", ""]), instance=terms, prefix="installment_rules")
    assert not formset.is_valid()
    assert formset.forms[1].errors == {"share": ["「保费比例」须大于0且不超过1（即100%）。"]}
    assert list(terms.installment_rules.order_by("seq").values_list("share", flat=True)) == [D("0.4000"), D("0.3000"), None]


@pytest.mark.django_db
def test_the_admin_shows_the_installments_of_the_contracts_in_scope(client):
    admin = UserFactory(username="terms_admin", role="administrator", area_codes=["411300"])
    client.force_login(admin)
    zhenping = FinanceTerms.objects.get(contract__code="zhenping-2026")
    page = client.get(reverse("admin:finance_financeterms_change", args=[zhenping.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "保费分期规则" in body and "第一次于2026年3月31日前支付总保费的40%（第九条）" in body
    tongliao = FinanceTerms.objects.get(contract__code="tongliao-2025")
    assert client.get(reverse("admin:finance_financeterms_change", args=[tongliao.pk])).status_code in (302, 404)
    assert set(InstallmentRule.objects.for_user(admin).values_list("terms__contract__code", flat=True)) == {"zhenping-2026"}


@pytest.mark.django_db
def test_an_edit_of_a_rule_is_kept_in_its_history():
    rule = InstallmentRule.objects.get(terms__contract__code="tongliao-2025", seq=1)
    rule.share = D("0.7")
    rule.save()
    assert [h.share for h in rule.history.order_by("history_date")][-1] == D("0.7")


# --- "the later of several" in fields (the admin's form, no JSON) ------------------------------


def _admin_formset(user, terms):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from finance.admin import InstallmentRuleInline

    request = RequestFactory().get("/")
    request.user = user
    return InstallmentRuleInline(FinanceTerms, django_admin.site).get_formset(request, terms)


def _latest_of_data(terms, *conditions):
    """The admin's POST for Beijing's one installment: "the later of" the given conditions, each
    a (kind, month, day, days, event) row of fields."""
    rule = terms.installment_rules.get()
    prefix = "installment_rules"
    data = {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MIN_NUM_FORMS": "1",
            f"{prefix}-MAX_NUM_FORMS": "1000", f"{prefix}-0-id": str(rule.pk), f"{prefix}-0-terms": str(terms.pk),
            f"{prefix}-0-seq": "1", f"{prefix}-0-share": "1", f"{prefix}-0-due_kind": "latest_of",
            f"{prefix}-0-note": rule.note, f"{prefix}-0-clause": rule.clause}
    for n, condition in enumerate(conditions):
        for k, value in enumerate(condition):
            data[f"{prefix}-0-due_parts_{n * 5 + k}"] = value
    return data


@pytest.fixture
def beijing_admin(db):
    return UserFactory(username="bj_terms_admin", role="administrator", area_codes=["110105"])


@pytest.mark.django_db
@pytest.mark.parametrize(("conditions", "message"), [
    ([("working_days_after", "", "", "5", "fiscal_funds_arrived"), ("working_days_after", "", "", "10", "invoice_sent")],
     "「条件（以较晚者为准）」第2项：「起算事件」“invoice_sent”不存在：到期规则只能从协议签订、财政资金到位、收到发票起算。"),
    ([("working_days_after", "", "", "", "fiscal_funds_arrived"), ("within_month", "12", "", "", "")],
     "「条件（以较晚者为准）」第1项：请填写「天数」。"),
    ([("days_after", "", "", "五", "signing"), ("within_month", "12", "", "", "")],
     "「条件（以较晚者为准）」第1项：「天数」须为整数。"),
    ([("working_days_after", "", "", "5", "fiscal_funds_arrived"), ("", "", "", "10", "invoice_received")],
     "「条件（以较晚者为准）」第2项：请选择条件类型（协议年度内固定日期前、协议年度内某月内（月末前）、事件后若干自然日内、事件后若干工作日内）。"),
    ([("working_days_after", "", "", "5", "fiscal_funds_arrived")],
     "「条件（以较晚者为准）」须列出至少两个条件。"),
])
def test_a_bad_condition_is_refused_naming_it_and_its_field_and_nothing_is_saved(beijing_admin, conditions, message):
    terms = FinanceTerms.objects.get(contract__code="beijing-chaoyang-2026")
    before = list(terms.installment_rules.values_list("due_kind", "due_parts"))
    formset = _admin_formset(beijing_admin, terms)(_latest_of_data(terms, *conditions), instance=terms, prefix="installment_rules")
    assert not formset.is_valid()
    assert formset.forms[0].errors == {"due_parts": [message]}
    assert list(terms.installment_rules.values_list("due_kind", "due_parts")) == before
    assert "invoice_sent" not in str(before) and len(before[0][1]) == 2


@pytest.mark.django_db
def test_a_valid_later_of_several_is_saved_from_fields_and_gives_the_later_date(beijing_admin):
    from finance.calculations.premiums import ScheduleContext
    from finance.services import add_working_days

    terms = FinanceTerms.objects.get(contract__code="beijing-chaoyang-2026")
    data = _latest_of_data(terms, ("working_days_after", "7", "", "5", "fiscal_funds_arrived"),  # a stray month: dropped
                           ("working_days_after", "", "", "12", "invoice_received"), ("fixed_date", "3", "15", "", ""))
    formset = _admin_formset(beijing_admin, terms)(data, instance=terms, prefix="installment_rules")
    assert formset.is_valid(), formset.errors
    formset.save()
    rule = terms.installment_rules.get()
    assert rule.due_parts == [{"kind": "working_days_after", "days": 5, "event": "fiscal_funds_arrived"},
                              {"kind": "working_days_after", "days": 12, "event": "invoice_received"},
                              {"kind": "fixed_date", "month": 3, "day": 15}]
    due = rule.due_rule().due_date(ScheduleContext(2026, {"fiscal_funds_arrived": dt.date(2026, 3, 2),
                                                          "invoice_received": dt.date(2026, 3, 4)}, add_working_days))
    assert due == dt.date(2026, 3, 20)  # 5 working days after 2 March: 9 March; 12 after 4 March: 20 March; 15 March
    assert rule.due_rule().due_date(ScheduleContext(2026, {"fiscal_funds_arrived": dt.date(2026, 3, 2)}, add_working_days)) is None


@pytest.mark.django_db
def test_the_admin_shows_the_conditions_in_fields_not_json(client, beijing_admin):
    terms = FinanceTerms.objects.get(contract__code="beijing-chaoyang-2026")
    client.force_login(beijing_admin)
    page = client.get(reverse("admin:finance_financeterms_change", args=[terms.pk])).content.decode()
    assert page.count('name="installment_rules-0-due_parts_') == 20  # four rows of five fields
    assert '<option value="fiscal_funds_arrived" selected>财政资金到位</option>' in page
    assert '<option value="invoice_received" selected>收到发票</option>' in page
    assert "&quot;kind&quot;" not in page and '"kind"' not in page and "[{" not in page
    assert "条件1" in page and "起算事件" in page
