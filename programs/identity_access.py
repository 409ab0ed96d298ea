"""The record of full identities seen (`IdentityAccess`): written whenever a full ID number is
shown to a user entitled to it, so supervisors can answer "who looked at this person"."""

from __future__ import annotations

from django.db import transaction

from insurance_admin.core.logmasking import mask_identities
from insurance_admin.core.masking import can_see_full_identity

from .models import IdentityAccess, ImportBatch, InsuredPerson


@transaction.atomic
def identity_access_record(*, user, where: str, person: InsuredPerson | None = None,
                           import_batch: ImportBatch | None = None, rows: int = 1) -> IdentityAccess | None:
    """One access by `user` at `where` (a URL path or an export's name) to `person` or to the
    rows of `import_batch`; nothing when the user only sees masked identities."""
    if not can_see_full_identity(user):
        return None
    return IdentityAccess.objects.create(user=user, person=person, import_batch=import_batch, where=_where(where), rows=rows)


@transaction.atomic
def identity_access_record_persons(*, user, persons, where: str) -> list[IdentityAccess]:
    """One access per person shown at once (a search's result list)."""
    if not can_see_full_identity(user):
        return []
    return IdentityAccess.objects.bulk_create(
        [IdentityAccess(user=user, person=person, where=_where(where)) for person in persons])


def _where(where: str) -> str:
    # an address may carry the ID number searched for: the trail shows where, not whom
    return mask_identities(where)[:300]
