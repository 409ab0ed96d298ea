"""Admin access that holds under attack (issue 17, admin side): the per-version history page
(simple-history's "revert"), users managed by administrators of a region, the user add form,
fail-closed scoping of every admin model, and filter sidebars built from scoped querysets."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.forms import MultiWidget
from django.test import RequestFactory

from claims.models import Claim, ClaimTerms
from finance import services as finance_services
from finance.models import LedgerEntry, PremiumInstallment
from insurance_admin.accounts.models import User
from insurance_admin.core import admin_scoping
from programs.models import Area, Contract, Party
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def _missing(response) -> bool:
    """The admin's answer for an object that does not exist (or is out of reach): the change page
    redirects to the index with a message, every other page is a 404."""
    return response.status_code == 404 or (response.status_code == 302 and response["Location"] == "/admin/")


def _version_url(obj) -> str:
    opts = obj._meta
    history_id = obj.history.latest().history_id
    return f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/{history_id}/"


def _revert_payload(obj, user, **changes) -> dict:
    """What the per-version page's form would post for `user`, with `changes` applied: a valid
    form (the old code saved it), so that a refusal is the view's doing, not the form's."""
    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().get("/")
    request.user = user
    form = model_admin.get_form(request, obj)(instance=obj)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        widget = form.fields[name].widget
        if isinstance(widget, MultiWidget):  # admin date + time inputs
            for i, part in enumerate(widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else str(part)
        elif isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    data.update({k: str(v) for k, v in changes.items()})
    return data


def _claim(person, area_code: str, contract_code: str, registered_by, **fields) -> Claim:
    return Claim.objects.create(
        claim_no=f"LP-{person.pk}-{area_code}", contract=Contract.objects.get(code=contract_code), person=person,
        area=Area.objects.get(code=area_code), registered_by=registered_by, enddate=dt.date(2025, 6, 30),
        fixmedins_name="科尔沁区医院", payee_name="包宝山", bank_name="农行", bank_account="6228480012345678901", **fields
    )


@pytest.fixture
def administrator_tongliao(db):
    return UserFactory(username="adm_tl", role="administrator", area_codes=["150500"])


@pytest.fixture
def everywhere_staff(db):
    """`admin`, `supervisor`, `reviewer` of the demo: bound to all four regions."""
    regions = ["150500", "411600", "411300", "110000"]
    return {
        role: UserFactory(username=f"all_{role}", role=role, area_codes=regions)
        for role in ("administrator", "supervisor", "reviewer")
    }


# --- 1. the per-version history page -----------------------------------------------------------


def test_history_version_of_an_out_of_area_person_is_404(client, caseworker_kailu, horqin_person):
    client.force_login(caseworker_kailu)
    response = client.get(_version_url(horqin_person))
    assert response.status_code == 404
    assert horqin_person.certno not in response.text


def test_history_version_of_an_out_of_area_claim_is_404_and_shows_no_bank_account(client, caseworker_kailu, caseworker,
                                                                                   horqin_person):
    claim = _claim(horqin_person, "150502", "tongliao-2025", caseworker)
    client.force_login(caseworker_kailu)
    response = client.get(_version_url(claim))
    assert response.status_code == 404
    assert "6228480012345678901" not in response.text


def test_history_version_needs_full_identity_where_the_history_does(client, supervisor, caseworker, horqin_person):
    claim = _claim(horqin_person, "150502", "tongliao-2025", caseworker)
    client.force_login(supervisor)
    assert client.get(f"/admin/claims/claim/{claim.pk}/history/").status_code == 403
    response = client.get(_version_url(claim))
    assert response.status_code == 403
    assert "6228480012345678901" not in response.text
    assert client.get(_version_url(horqin_person)).status_code == 403


def test_history_version_of_an_in_area_claim_is_shown_read_only(client, caseworker, horqin_person):
    claim = _claim(horqin_person, "150502", "tongliao-2025", caseworker)
    client.force_login(caseworker)
    response = client.get(_version_url(claim))
    assert response.status_code == 200
    assert 'name="payable"' not in response.text and 'name="_save"' not in response.text


def test_caseworker_cannot_change_their_approved_claims_payable_by_revert(client, caseworker, reviewer, horqin_person):
    claim = _claim(horqin_person, "150502", "tongliao-2025", caseworker, status=Claim.Status.APPROVED,
                   payable=Decimal("1200.00"), approved_by=reviewer)
    client.force_login(caseworker)
    response = client.post(_version_url(claim), _revert_payload(claim, caseworker, payable="99999.00"))
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.payable == Decimal("1200.00")


def test_read_only_supervisor_cannot_set_a_contracts_total_premium_by_revert(client, supervisor):
    contract = Contract.objects.get(code="tongliao-2025")
    before = contract.total_premium
    client.force_login(supervisor)
    response = client.post(_version_url(contract), _revert_payload(contract, supervisor, total_premium="1.00"))
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.total_premium == before


def test_administrator_in_scope_still_reverts_a_contract(client, administrator_tongliao):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(administrator_tongliao)
    response = client.post(_version_url(contract), _revert_payload(contract, administrator_tongliao, notes="reverted"))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.notes == "reverted"


def test_administrator_cannot_revert_another_regions_contract(client, administrator_tongliao):
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    client.force_login(administrator_tongliao)
    response = client.post(_version_url(contract), _revert_payload(contract, administrator_tongliao, notes="x"))
    assert response.status_code == 404
    contract.refresh_from_db()
    assert contract.notes != "x"


def test_finance_cannot_set_an_installments_received_by_revert(client):
    finance = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    finance_services.premium_schedule_generate(contract=Contract.objects.get(code="tongliao-2025"), user=finance)
    installment = PremiumInstallment.objects.filter(contract__code="tongliao-2025").first()
    entries = LedgerEntry.objects.count()
    client.force_login(finance)
    response = client.post(_version_url(installment), _revert_payload(installment, finance, received=installment.amount))
    assert response.status_code == 403
    installment.refresh_from_db()
    assert installment.received == Decimal("0")
    assert LedgerEntry.objects.count() == entries


def test_superuser_cannot_revert_what_only_services_change(client, caseworker, reviewer, horqin_person):
    root = User.objects.create_superuser("root", password="pw-12345")
    claim = _claim(horqin_person, "150502", "tongliao-2025", caseworker, status=Claim.Status.APPROVED,
                   payable=Decimal("1200.00"), approved_by=reviewer)
    client.force_login(root)
    response = client.post(_version_url(claim), _revert_payload(claim, root, payable="1.00"))
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.payable == Decimal("1200.00")


SERVICE_ONLY = {
    "claims.claim", "claims.settlement", "claims.hospitalbatch", "claims.settlementslip", "claims.deduction",
    "claims.recovery", "programs.importbatch", "programs.smsnotification", "finance.premiumschedule",
    "finance.premiuminstallment", "finance.guaranteedeposit", "finance.revolvingfund", "finance.prepayment",
    "finance.penalty", "finance.hospitalpayable", "finance.ledgerentry",
}


def test_every_admin_with_history_goes_through_the_scoped_base():
    for model, model_admin in admin.site._registry.items():
        if hasattr(model._meta, "simple_history_manager_attribute"):
            assert isinstance(model_admin, admin_scoping.ScopedAdmin), model._meta.label
    assert isinstance(admin.site._registry[User], admin_scoping.ScopedAdmin)


def test_objects_changed_only_through_services_have_a_read_only_history():
    labels = {m._meta.label_lower for m, a in admin.site._registry.items() if getattr(a, "history_read_only", False)}
    assert SERVICE_ONLY <= labels
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in SERVICE_ONLY:
            assert isinstance(model_admin, admin_scoping.ReadOnlyScopedAdmin), model._meta.label


# --- 2. users managed within the administrator's own scope --------------------------------------


def test_regional_administrator_cannot_reset_passwords_of_staff_bound_beyond_their_scope(client, administrator_tongliao,
                                                                                         everywhere_staff):
    client.force_login(administrator_tongliao)
    for user in everywhere_staff.values():
        url = f"/admin/accounts/user/{user.pk}/password/"
        assert client.get(url).status_code == 404
        response = client.post(url, {"password1": "Hijacked-2026!", "password2": "Hijacked-2026!",
                                     "usable_password": "true"})
        assert response.status_code == 404
        user.refresh_from_db()
        assert user.check_password("pw-12345") and not user.check_password("Hijacked-2026!")
        assert _missing(client.get(f"/admin/accounts/user/{user.pk}/change/"))
        assert client.get(f"/admin/accounts/user/{user.pk}/history/").status_code == 404
        assert client.get(_version_url(user)).status_code == 404


def test_regional_administrator_manages_users_whose_areas_all_lie_in_their_scope(client, administrator_tongliao, caseworker):
    mixed = UserFactory(username="cw_horqin_and_zhenping", role="caseworker", area_codes=["150502", "411324"])
    root = User.objects.create_superuser("superuser_root", password="pw-12345")
    client.force_login(administrator_tongliao)
    assert client.get(f"/admin/accounts/user/{caseworker.pk}/change/").status_code == 200
    assert client.get(f"/admin/accounts/user/{caseworker.pk}/password/").status_code == 200
    assert _missing(client.get(f"/admin/accounts/user/{mixed.pk}/change/"))
    assert client.get(f"/admin/accounts/user/{mixed.pk}/password/").status_code == 404
    assert _missing(client.get(f"/admin/accounts/user/{root.pk}/change/"))
    assert client.get(f"/admin/accounts/user/{root.pk}/password/").status_code == 404
    listing = client.get("/admin/accounts/user/").text
    assert ">cw_horqin<" in listing and "cw_horqin_and_zhenping" not in listing and "superuser_root" not in listing


# --- 3. the user add form ------------------------------------------------------------------------


def _add_user(client, **extra):
    data = {"username": "new_cw", "password1": "Kailu-Window-2026", "password2": "Kailu-Window-2026",
            "usable_password": "true", "_continue": "1", **extra}
    return client.post("/admin/accounts/user/add/", data)


def test_a_user_added_with_role_and_areas_can_be_edited_right_away(client, administrator_tongliao):
    client.force_login(administrator_tongliao)
    kailu = Area.objects.get(code="150523")
    response = _add_user(client, groups=[Group.objects.get(name="caseworker").pk], areas=[kailu.pk])
    assert response.status_code == 302
    user = User.objects.get(username="new_cw")
    assert list(user.areas.all()) == [kailu]
    assert [g.name for g in user.groups.all()] == ["caseworker"]
    assert user.check_password("Kailu-Window-2026")
    assert response["Location"].endswith(f"/admin/accounts/user/{user.pk}/change/")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    # roles are offered by their Chinese names, never their internal keys
    role_options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page.content.decode().split('name="groups"')[1])
    assert {"经办员", "审核员"} <= set(role_options) and not {"caseworker", "reviewer"} & set(role_options)


def test_the_add_form_requires_areas_within_the_creators_scope(client, administrator_tongliao):
    client.force_login(administrator_tongliao)
    response = _add_user(client, groups=[Group.objects.get(name="caseworker").pk])
    assert response.status_code == 200 and not User.objects.filter(username="new_cw").exists()
    beijing = Area.objects.get(code="110105")
    response = _add_user(client, groups=[Group.objects.get(name="caseworker").pk], areas=[beijing.pk])
    assert response.status_code == 200 and not User.objects.filter(username="new_cw").exists()
    page = client.get("/admin/accounts/user/add/").text
    assert 'name="areas"' in page and 'name="groups"' in page and "朝阳区" not in page


# --- 4. fail-closed scoping ---------------------------------------------------------------------


def test_scoping_a_model_without_a_scope_rule_is_an_error(caseworker):
    from claims.models import SettlementCheck

    with pytest.raises(ImproperlyConfigured):
        admin_scoping.scoped(SettlementCheck.objects.all(), caseworker)


def test_every_registered_admin_model_declares_a_scope_rule():
    for model in admin.site._registry:
        assert admin_scoping.scope_rule(model) is not None, model._meta.label
    assert admin_scoping.scope_rule_errors(admin.site) == []


def test_the_startup_check_names_a_registered_model_without_a_rule():
    from claims.models import SettlementCheck

    site = admin.AdminSite(name="probe")
    site.register(SettlementCheck)
    errors = admin_scoping.scope_rule_errors(site)
    assert [e.id for e in errors] == ["core.E017"]
    assert "claims.SettlementCheck" in errors[0].msg


# --- 8. scoped filter sidebars and reference lists -----------------------------------------------


def test_claim_filter_sidebar_lists_only_contracts_of_the_users_scope(client):
    two_regions = UserFactory(username="sup2", role="supervisor", area_codes=["150500", "411300"])
    client.force_login(two_regions)
    page = client.get("/admin/claims/claim/").text
    assert Contract.objects.get(code="tongliao-2025").name in page
    assert Contract.objects.get(code="zhenping-2026").name in page
    for code in ("beijing-chaoyang-2026", "taikang-2025"):
        assert Contract.objects.get(code=code).name not in page, code


def test_enrollment_area_filter_lists_only_the_users_areas(client, caseworker):
    EnrollmentFactory(person=PersonFactory(area_code="150502"))
    client.force_login(caseworker)
    page = client.get("/admin/programs/enrollment/").text
    assert "科尔沁区" in page and "开鲁县" not in page and "朝阳区" not in page


def test_claim_terms_list_shows_only_the_users_contracts(client, administrator_tongliao):
    client.force_login(administrator_tongliao)
    page = client.get("/admin/claims/claimterms/").text
    beijing = ClaimTerms.objects.get(contract__code="beijing-chaoyang-2026")
    assert _missing(client.get(f"/admin/claims/claimterms/{beijing.pk}/change/"))
    for code in ("beijing-chaoyang-2026", "zhenping-2026", "taikang-2025"):
        assert Contract.objects.get(code=code).name not in page, code


def test_parties_of_other_regions_and_their_bank_accounts_are_hidden(client, administrator_tongliao):
    beijing_insurer = Party.objects.get(name="中国人民财产保险股份有限公司北京市分公司")
    client.force_login(administrator_tongliao)
    page = client.get("/admin/programs/party/").text
    assert "通辽市医疗保险服务中心" in page
    assert beijing_insurer.name not in page and "0200235229023101911" not in page
    assert _missing(client.get(f"/admin/programs/party/{beijing_insurer.pk}/change/"))
    assert client.get(_version_url(beijing_insurer)).status_code == 404


def test_the_scope_rule_check_runs_with_the_system_checks():
    from django.core import checks

    assert [e for e in checks.run_checks(tags=[checks.Tags.admin]) if e.id == "core.E017"] == []
    assert admin_scoping.check_scope_rules in checks.registry.registry.registered_checks


def test_every_admin_of_an_area_scoped_model_is_a_scoped_admin_with_scoped_related_filters(caseworker):
    request = RequestFactory().get("/")
    request.user = caseworker
    for model, model_admin in admin.site._registry.items():
        if admin_scoping.scope_rule(model) != "for_user":
            continue
        assert isinstance(model_admin, admin_scoping.ScopedAdmin), model._meta.label
        for item in model_admin.get_list_filter(request):
            if isinstance(item, str):
                assert not get_fields_from_path(model, item)[-1].is_relation, (model._meta.label, item)
            elif isinstance(item, tuple) and issubclass(item[1], admin.RelatedFieldListFilter):
                assert issubclass(item[1], (admin_scoping.ScopedRelatedFieldListFilter,
                                            admin_scoping.ScopedRelatedOnlyFieldListFilter)), (model._meta.label, item)


@pytest.mark.parametrize("who", ["superuser", "administrator"])
def test_every_admin_page_with_a_row_renders_for_a_superuser_and_a_regional_administrator(client, who, horqin_person,
                                                                                          caseworker):
    user = (User.objects.create_superuser("superuser_root", password="pw-12345") if who == "superuser"
            else UserFactory(username="adm_tl", role="administrator", area_codes=["150500"]))
    _claim(horqin_person, "150502", "tongliao-2025", caseworker)
    finance = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    finance_services.premium_schedule_generate(contract=Contract.objects.get(code="tongliao-2025"), user=finance)
    installment = PremiumInstallment.objects.filter(contract__code="tongliao-2025").first()
    finance_services.installment_record_receipt(installment=installment, amount=Decimal("1.00"),
                                                received_on=dt.date(2025, 3, 1), user=finance)
    client.force_login(user)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        request = RequestFactory().get(base)
        request.user = user
        if not model_admin.has_view_or_change_permission(request):
            continue
        assert client.get(base).status_code == 200, base
        obj = model_admin.get_queryset(request).first()
        if obj is None:
            continue
        assert client.get(f"{base}{obj.pk}/change/").status_code == 200, base
        from insurance_admin.core.masking import can_see_full_identity

        expected = 403 if getattr(model_admin, "history_needs_full_identity", False) and not can_see_full_identity(user) else 200
        assert client.get(f"{base}{obj.pk}/history/").status_code == expected, base
        if hasattr(opts, "simple_history_manager_attribute") and obj.history.exists():
            assert client.get(_version_url(obj)).status_code == expected, base


def test_an_administrator_cannot_revert_a_user_to_a_version_that_was_superuser(client, administrator_tongliao, caseworker):
    caseworker.is_superuser = True
    caseworker.save()
    superuser_version = caseworker.history.latest().history_id
    caseworker.is_superuser = False
    caseworker.save()
    url = f"/admin/accounts/user/{caseworker.pk}/history/{superuser_version}/"
    client.force_login(administrator_tongliao)
    page = client.get(url)
    assert page.status_code == 200
    assert caseworker.password not in page.text and caseworker.password.split("$")[-1] not in page.text
    response = client.post(url, _revert_payload(caseworker, administrator_tongliao))
    assert response.status_code == 403
    caseworker.refresh_from_db()
    assert caseworker.is_superuser is False
