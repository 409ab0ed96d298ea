"""Beijing's member services (健康管理服务, seed 000; issue 23 item 5): the limits are the
contract's data, the window records uses against them and refuses what exceeds a limit with
the limit named."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections
from django.utils import translation

from claims.members import (
    EntitlementRefused,
    entitlement_use_record,
    monthly_usage,
    report_totals,
    standing,
)
from claims.models import EntitlementGroup, EntitlementKind, EntitlementUse
from programs.models import Area, Contract
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

TODAY = dt.date(2026, 12, 1)
BEIJING = "beijing-chaoyang-2026"


@pytest.fixture
def beijing(db):
    return Contract.objects.get(code=BEIJING)


@pytest.fixture
def chaoyang_worker(db):
    return UserFactory(username="cw_chaoyang", first_name="朝阳区经办员", role="caseworker", area_codes=["110105"])


def _enrolled(beijing, **attrs):
    person = PersonFactory(area_code="110105")
    EnrollmentFactory(person=person, contract=beijing, area=Area.objects.get(code="110105"), **attrs)
    return person


def _kind(name):
    return EntitlementKind.objects.select_related("group").get(group__contract__code=BEIJING, name=name)


def _use(user, person, contract, name, on=dt.date(2026, 3, 2), amount=None):
    with translation.override("zh-hans"):
        return entitlement_use_record(user=user, person=person, contract=contract, kind=_kind(name), used_on=on,
                                      purchase_amount=amount, today=TODAY)


def test_beijing_member_services_are_seeded_as_data(beijing):
    groups = {g.code: g for g in EntitlementGroup.objects.filter(contract=beijing)}
    assert set(groups) == {"nursing", "drug_discount", "extra"}
    nursing, drug, extra = groups["nursing"], groups["drug_discount"], groups["extra"]
    assert (nursing.name, nursing.yearly_count_limit, nursing.subsidy_rate) == ("护理类服务", 5, None)
    assert [k.name for k in nursing.kinds.all()] == ["就医陪护", "居家康复类", "机构康复类", "生活照顾类", "上门检测类", "上门护理类"]
    assert (drug.subsidy_rate, drug.per_use_cap, drug.yearly_amount_cap, drug.yearly_count_limit) == (
        D("0.1000"), D("400.00"), D("1800.00"), 12)
    assert (extra.eligibility, extra.choose_one, extra.yearly_count_limit) == ("continuous_no_claim_3y", True, 1)
    assert [k.name for k in extra.kinds.all()] == ["口腔健康", "中医调理", "健康检查", "家庭急救包", "日常小药箱", "体重管理年精选设备"]
    # no other contract has member services
    assert not EntitlementGroup.objects.exclude(contract=beijing).exists()


def test_fifth_nursing_use_accepted_sixth_refused_with_the_limit_named(beijing, chaoyang_worker):
    person = _enrolled(beijing)
    for i, name in enumerate(["就医陪护", "居家康复类", "机构康复类", "生活照顾类", "上门护理类"]):
        _use(chaoyang_worker, person, beijing, name, on=dt.date(2026, 3, 2 + i))
    assert EntitlementUse.objects.filter(person=person).count() == 5
    nursing = standing(person, beijing)[0]
    assert (nursing.used, nursing.count_left) == (5, 0)
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, person, beijing, "上门检测类")
    assert exc.value.messages == ["本年度护理类服务已用满 5 次"]
    assert EntitlementUse.objects.filter(person=person).count() == 5


def test_a_450_yuan_subsidy_is_cut_to_the_400_cap_per_purchase(beijing, chaoyang_worker):
    person = _enrolled(beijing)
    use = _use(chaoyang_worker, person, beijing, "指定药房门店购药", amount=D("4500.00"))
    assert (use.purchase_amount, use.subsidy) == (D("4500.00"), D("400.00"))
    small = _use(chaoyang_worker, person, beijing, "购药配送到家", amount=D("123.45"))
    assert small.subsidy == D("12.35")  # 12.345 half-up


def test_the_yearly_1800_is_reached_exactly_then_the_next_purchase_is_refused(beijing, chaoyang_worker):
    person = _enrolled(beijing)
    for _ in range(4):
        assert _use(chaoyang_worker, person, beijing, "指定药房门店购药", amount=D("4000.00")).subsidy == D("400.00")
    # 300 would exceed the year's 1,800: cut to the 200 left
    last = _use(chaoyang_worker, person, beijing, "原研药购药到家", amount=D("3000.00"))
    assert last.subsidy == D("200.00")
    drug = standing(person, beijing)[1]
    assert (drug.subsidy, drug.amount_left, drug.used, drug.count_left) == (D("1800.00"), D("0.00"), 5, 7)
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, person, beijing, "购药配送到家", amount=D("100.00"))
    assert exc.value.messages == ["本年度购药折扣服务补贴已用满 1,800.00 元"]
    assert EntitlementUse.objects.filter(person=person).count() == 5


def test_twelve_purchases_a_year(beijing, chaoyang_worker):
    person = _enrolled(beijing)
    for _ in range(12):
        _use(chaoyang_worker, person, beijing, "购药配送到家", amount=D("10.00"))
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, person, beijing, "购药配送到家", amount=D("10.00"))
    assert exc.value.messages == ["本年度购药折扣服务已用满 12 次"]


def test_extra_service_is_one_of_six_for_eligible_persons_only(beijing, chaoyang_worker):
    eligible = _enrolled(beijing, continuous_no_claim_3y=True)
    other = _enrolled(beijing)
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, other, beijing, "口腔健康")
    assert exc.value.messages == ["专属健康管理服务仅限“近三年连续参保且无出险”的被保险人"]
    _use(chaoyang_worker, eligible, beijing, "中医调理")
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, eligible, beijing, "健康检查")
    assert exc.value.messages == ["本年度专属健康管理服务已选择“中医调理”，不能再选择“健康检查”"]
    with pytest.raises(EntitlementRefused) as exc:
        _use(chaoyang_worker, eligible, beijing, "中医调理")
    assert exc.value.messages == ["本年度专属健康管理服务已用满 1 次"]
    assert standing(eligible, beijing)[2].chosen.name == "中医调理"


def test_not_covered_and_future_dates_are_refused(beijing, chaoyang_worker):
    person = _enrolled(beijing)
    with pytest.raises(EntitlementRefused):
        _use(chaoyang_worker, person, beijing, "就医陪护", on=dt.date(2026, 12, 2))
    with pytest.raises(EntitlementRefused):
        _use(chaoyang_worker, person, beijing, "就医陪护", on=dt.date(2025, 12, 31))
    assert not EntitlementUse.objects.exists()


def test_monthly_report_figures_are_exact_and_area_scoped(beijing, chaoyang_worker):
    a, b = _enrolled(beijing), _enrolled(beijing)
    _use(chaoyang_worker, a, beijing, "就医陪护", on=dt.date(2026, 3, 2))
    _use(chaoyang_worker, b, beijing, "就医陪护", on=dt.date(2026, 3, 31))
    _use(chaoyang_worker, a, beijing, "就医陪护", on=dt.date(2026, 4, 1))  # April: not in March
    _use(chaoyang_worker, a, beijing, "指定药房门店购药", on=dt.date(2026, 3, 5), amount=D("4500.00"))
    _use(chaoyang_worker, b, beijing, "指定药房门店购药", on=dt.date(2026, 3, 6), amount=D("1234.56"))
    rows = {r.kind.name: r for r in monthly_usage(chaoyang_worker, beijing, dt.date(2026, 3, 1))}
    assert (rows["就医陪护"].uses, rows["就医陪护"].persons) == (2, 2)
    assert (rows["指定药房门店购药"].uses, rows["指定药房门店购药"].purchases, rows["指定药房门店购药"].subsidy) == (
        2, D("5734.56"), D("523.46"))
    assert rows["口腔健康"].uses == 0
    totals = report_totals(list(rows.values()))
    assert (totals["uses"], totals["subsidy"]) == (4, D("523.46"))
    tongliao_worker = UserFactory(username="cw_tl", role="caseworker", area_codes=["150502"])
    assert sum(r.uses for r in monthly_usage(tongliao_worker, beijing, dt.date(2026, 3, 1))) == 0


@pytest.mark.django_db(transaction=True)
def test_two_windows_recording_the_last_use_at_once_one_is_accepted(seeded):
    """PostgreSQL: two connections each record the 5th nursing use of the same person at the
    same moment; the enrollment row lock lets exactly one through."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    beijing = Contract.objects.get(code=BEIJING)
    user = UserFactory(username="cw_race", role="caseworker", area_codes=["110105"])
    person = _enrolled(beijing)
    for i in range(4):
        _use(user, person, beijing, "就医陪护", on=dt.date(2026, 3, 2 + i))
    barrier = threading.Barrier(2)
    results = []

    def window(name):
        try:
            barrier.wait(timeout=10)
            _use(user, person, beijing, name, on=dt.date(2026, 4, 1))
            results.append("accepted")
        except EntitlementRefused as exc:
            results.append(exc.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=window, args=(n,)) for n in ("居家康复类", "上门护理类")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["accepted", "本年度护理类服务已用满 5 次"]
    assert EntitlementUse.objects.filter(person=person).count() == 5
