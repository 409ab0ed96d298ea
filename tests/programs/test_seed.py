import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.core.management import call_command

from programs.models import Area, Contract, Party
from programs.seed import load_seed

pytestmark = pytest.mark.django_db


def test_the_four_seed_contracts_exist_after_migrate():
    assert sorted(Contract.objects.values_list("code", flat=True)) == [
        "beijing-chaoyang-2026",
        "taikang-2025",
        "tongliao-2025",
        "zhenping-2026",
    ]


def test_tongliao_premium_is_per_capita_times_provisional_headcount():
    c = Contract.objects.get(code="tongliao-2025")
    rate = c.premium_rates.get()
    assert rate.per_capita == Decimal("114.23")
    assert (c.headcount_provisional, c.headcount_provisional_date) == (2217285, dt.date(2025, 4, 30))
    assert c.total_premium == Decimal("253280465.55")
    assert (rate.per_capita * c.headcount_provisional).quantize(Decimal("0.01"), ROUND_HALF_UP) == c.total_premium
    assert (c.service_cycle_start, c.service_cycle_end) == (dt.date(2025, 1, 1), dt.date(2027, 12, 31))
    assert c.program.region.children.count() == 9
    assert set(c.program.region.children.values_list("name", flat=True)) == {
        "科尔沁区", "霍林郭勒市", "开鲁县", "库伦旗", "奈曼旗", "扎鲁特旗", "科尔沁左翼中旗", "科尔沁左翼后旗", "经济技术开发区",
    }


def test_beijing_premium_is_195_times_20063():
    c = Contract.objects.get(code="beijing-chaoyang-2026")
    assert c.total_premium == Decimal("3912285.00") == c.premium_rates.get().per_capita * 20063
    assert c.insurer.bank_account == "0200235229023101911"
    assert c.insurer.contacts.count() == 6


def test_taikang_and_zhenping_terms():
    t = Contract.objects.get(code="taikang-2025")
    assert t.premium_rates.get().per_capita == Decimal("150.00")
    assert t.signed_on == dt.date(2025, 1, 27)
    assert t.effective_slip_title == "周口市城镇职工大额住院医疗费用结算单"
    z = Contract.objects.get(code="zhenping-2026")
    assert dict(z.premium_rates.values_list("employment", "per_capita")) == {"active": Decimal("460.00"), "retired": Decimal("0.00")}
    assert (z.signed_on, z.service_cycle_end) == (dt.date(2026, 2, 13), dt.date(2028, 12, 31))


def test_loading_the_seed_again_changes_nothing():
    before = (Contract.objects.count(), Party.objects.count(), Area.objects.count())
    load_seed(apps)
    call_command("seed_contracts")
    assert (Contract.objects.count(), Party.objects.count(), Area.objects.count()) == before == (4, 8, 16)
