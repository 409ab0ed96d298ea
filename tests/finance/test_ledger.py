"""The append-only ledger: receipts, reversals, database triggers, finance_check, concurrency."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction

from finance import services
from finance.models import LedgerEntry, PremiumInstallment
from programs.models import Contract
from tests.conftest import require_or_skip
from tests.factories import UserFactory

D = Decimal


def _beijing_installment(user):
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    services.premium_schedule_generate(contract=contract, user=user)
    return PremiumInstallment.objects.get(contract=contract)


@pytest.mark.django_db
def test_partial_receipts_accumulate_and_an_over_credit_is_refused(finance_user):
    inst = _beijing_installment(finance_user)
    services.installment_record_receipt(installment=inst, amount=D("3000000.00"), received_on=dt.date(2026, 1, 15), user=finance_user, reference="BANK-1")
    services.installment_record_receipt(installment=inst, amount=D("900000.00"), received_on=dt.date(2026, 1, 20), user=finance_user)
    inst.refresh_from_db()
    assert (inst.received, inst.outstanding) == (D("3900000.00"), D("12285.00"))
    with pytest.raises(ValidationError):
        services.installment_record_receipt(installment=inst, amount=D("12285.01"), received_on=dt.date(2026, 1, 21), user=finance_user)
    with pytest.raises(ValidationError):
        services.installment_record_receipt(installment=inst, amount=D("0"), received_on=dt.date(2026, 1, 21), user=finance_user)
    services.installment_record_receipt(installment=inst, amount=D("12285.00"), received_on=dt.date(2026, 1, 21), user=finance_user)
    inst.refresh_from_db()
    assert inst.received == D("3912285.00")


@pytest.mark.django_db
def test_the_database_refuses_an_installment_credited_beyond_its_cash_due(finance_user):
    inst = _beijing_installment(finance_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        PremiumInstallment.objects.filter(pk=inst.pk).update(received=D("3912285.01"))


@pytest.mark.django_db
def test_a_reversal_is_a_linked_opposite_entry_and_restores_the_balance(finance_user):
    inst = _beijing_installment(finance_user)
    entry = services.installment_record_receipt(installment=inst, amount=D("1000.00"), received_on=dt.date(2026, 1, 15), user=finance_user)
    reversal = services.ledger_entry_reverse(entry=entry, reason="booked to the wrong contract", user=finance_user, booked_on=dt.date(2026, 1, 16))
    assert (reversal.kind, reversal.amount, reversal.reverses_id, reversal.installment_id) == ("reversal", D("-1000.00"), entry.pk, inst.pk)
    inst.refresh_from_db()
    assert inst.received == D("0.00")
    assert LedgerEntry.objects.filter(installment=inst).count() == 2
    with pytest.raises(ValidationError):
        services.ledger_entry_reverse(entry=entry, reason="again", user=finance_user)
    with pytest.raises(ValidationError):
        services.ledger_entry_reverse(entry=reversal, reason="undo the undo", user=finance_user)
    call_command("finance_check", stdout=open("/dev/null", "w"))


@pytest.mark.django_db
def test_triggers_refuse_update_and_delete_of_ledger_entries(finance_user):
    inst = _beijing_installment(finance_user)
    entry = services.installment_record_receipt(installment=inst, amount=D("1000.00"), received_on=dt.date(2026, 1, 15), user=finance_user)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE finance_ledgerentry SET memo = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount == D("1000.00")


@pytest.mark.django_db
def test_finance_check_passes_then_catches_a_tampered_balance(finance_user, capsys):
    inst = _beijing_installment(finance_user)
    services.installment_record_receipt(installment=inst, amount=D("1000.00"), received_on=dt.date(2026, 1, 15), user=finance_user)
    call_command("finance_check")
    assert "all balances equal the sum of their entries" in capsys.readouterr().out
    PremiumInstallment.objects.filter(pk=inst.pk).update(received=D("1500.00"))  # tampering behind the services' back
    with pytest.raises(CommandError):
        call_command("finance_check")
    assert f"finance.PremiumInstallment received #{inst.pk}: stored 1500.00, sum of entries 1000.00" in capsys.readouterr().err


@pytest.mark.django_db
def test_finance_check_exits_non_zero_from_the_command_line(finance_user):
    inst = _beijing_installment(finance_user)
    PremiumInstallment.objects.filter(pk=inst.pk).update(received=D("5.00"))
    with pytest.raises(SystemExit) as exc:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "finance_check"])
    assert exc.value.code == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_can_never_over_credit_an_installment(seeded):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    user = UserFactory(username="fin_race", role="finance")
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    services.premium_schedule_generate(contract=contract, user=user)
    inst = PremiumInstallment.objects.get(contract=contract)
    # each alone fits (3,000,000 ≤ 3,912,285); both together would over-credit by 2,087,715
    barrier = threading.Barrier(2)
    done, errors = [], []

    def receive(reference):
        try:
            barrier.wait(timeout=10)
            done.append(services.installment_record_receipt(
                installment=PremiumInstallment.objects.get(pk=inst.pk), amount=D("3000000.00"),
                received_on=dt.date(2026, 1, 15), user=user, reference=reference))
        except ValidationError as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=receive, args=(f"R{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert (len(done), len(errors)) == (1, 1)
    inst.refresh_from_db()
    assert inst.received == D("3000000.00")
    assert LedgerEntry.objects.filter(installment=inst).count() == 1
