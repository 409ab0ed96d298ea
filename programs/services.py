"""Writes on persons and enrollments: validated in full, audited in the same transaction."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import update_change_reason

from .identity import normalize_certno, parse_certno
from .models import Area, BenefitPlan, Contract, Enrollment, InsuredPerson


@transaction.atomic
def person_create(*, certno: str, name: str, psn_no: str | None = None, phone: str = "", reason: str = "") -> InsuredPerson:
    certno = normalize_certno(certno)
    try:
        birth_date, sex = parse_certno(certno)
    except ValidationError as exc:
        raise ValidationError({"certno": exc.messages}) from None
    person = InsuredPerson(certno=certno, name=name, psn_no=psn_no or None, phone=phone, birth_date=birth_date, sex=sex)
    person.full_clean()
    person.save()
    if reason:
        update_change_reason(person, reason)
    return person


@transaction.atomic
def enrollment_create(
    *,
    person: InsuredPerson,
    contract: Contract,
    area: Area,
    enrolled_from: dt.date,
    reason: str = "",
    **attributes,
) -> Enrollment:
    enrollment = Enrollment(person=person, contract=contract, area=area, enrolled_from=enrolled_from, **attributes)
    enrollment.full_clean()
    enrollment.save()
    if reason:
        update_change_reason(enrollment, reason)
    return enrollment


@transaction.atomic
def benefit_plan_update(*, benefit_plan: BenefitPlan, rules: dict, reason: str = "") -> BenefitPlan:
    """Replace a contract's rules after the engine's own checks; bumps the version so every
    process drops its cached copy of the old plan."""

    locked = BenefitPlan.objects.select_for_update().get(pk=benefit_plan.pk)
    locked.rules = rules
    locked.full_clean()
    locked.version += 1
    locked.save()
    if reason:
        update_change_reason(locked, reason)
    return locked
