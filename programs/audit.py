"""The audit trail as supervisors read it: who changed what, when, before and after.

Rows come from django-simple-history tables, scoped to the reader's areas and masked for
readers who may not see full identities. The "identity" trail lists who saw full identities
(`programs.IdentityAccess`: a person's page, an unmasked export), scoped the same way and
always masked.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.masking import can_see_full_identity, mask_certno, mask_name, mask_phone

from .models import Contract, Enrollment, IdentityAccess, InsuredPerson, Program

ACTION_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
_IDENTITY_MASKS = {"certno": mask_certno, "name": mask_name, "phone": mask_phone}


def _person_history(user):
    qs = InsuredPerson.history.all()
    scope = area_scope_ids(user)
    if scope is not None:
        qs = qs.filter(id__in=Enrollment.objects.filter(area_id__in=scope).values("person_id"))
    return qs


def _enrollment_history(user):
    qs = Enrollment.history.all()
    scope = area_scope_ids(user)
    return qs if scope is None else qs.filter(area_id__in=scope)


def _contract_history(user):
    return Contract.history.filter(program_id__in=Program.objects.for_user(user).values("pk"))


TRAILS = {
    "person": (_("Insured persons"), _person_history),
    "enrollment": (_("Enrollments"), _enrollment_history),
    "contract": (_("Contracts"), _contract_history),
    "identity": (_("Full identities seen"), IdentityAccess.objects.for_user),
}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class AuditEntry:
    when: object
    who: str
    action: str
    object_label: str
    object_id: int
    reason: str
    changes: list[Change]


def _display(model, field, value, masked: bool) -> str:
    """A history value as a reader understands it: choice labels, related objects' names,
    yes/no, and masked identities for readers who may not see them."""
    if value is None or value == "":
        return "—"
    if masked and model is InsuredPerson and field.name in _IDENTITY_MASKS:
        return _IDENTITY_MASKS[field.name](str(value))
    if field.is_relation:
        related = field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    if field.flatchoices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(value)


def _entry(record, masked: bool) -> AuditEntry:
    model = record.instance_type
    changes = []
    prev = record.prev_record if record.history_type == "~" else None
    if prev is not None:
        for c in record.diff_against(prev).changes:
            field = model._meta.get_field(c.field)
            changes.append(Change(str(field.verbose_name), _display(model, field, c.old, masked), _display(model, field, c.new, masked)))
    elif record.history_type == "+":
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            value = getattr(record, field.attname, None)
            if value not in (None, ""):
                changes.append(Change(str(field.verbose_name), "—", _display(model, field, value, masked)))
    instance = record.instance
    if masked or model is not InsuredPerson:
        label = str(instance)
    else:
        label = f"{instance.name}（{instance.certno}）"
    who = record.history_user.get_full_name() or record.history_user.username if record.history_user else _("system")
    return AuditEntry(
        when=record.history_date,
        who=str(who),
        action=str(ACTION_LABELS.get(record.history_type, record.history_type)),
        object_label=label,
        object_id=record.id,
        reason=record.history_change_reason or "",
        changes=changes,
    )


def _access_entry(access: IdentityAccess) -> AuditEntry:
    """One look at full identities; the person's name and ID masked whoever reads it."""
    if access.person is not None:
        label = str(access.person)  # masked by InsuredPerson.__str__
    else:
        label = _("Rejected rows of %(file)s (%(rows)s rows)") % {
            "file": access.import_batch.file_name, "rows": access.rows}
    who = access.user.get_full_name() or access.user.username
    return AuditEntry(when=access.accessed_at, who=str(who), action=str(_("saw the full identity")),
                      object_label=str(label), object_id=access.pk, reason=access.where, changes=[])


def audit_page(user, trail: str, page: int = 1, per_page: int = 50):
    """A page of the named trail, newest first; returns (page object, entries)."""
    _label, source = TRAILS[trail]
    if trail == "identity":
        qs = source(user).select_related("user", "person", "import_batch").order_by("-accessed_at", "-id")
        page_obj = Paginator(qs, per_page).get_page(page)
        return page_obj, [_access_entry(a) for a in page_obj.object_list]
    qs = source(user).select_related("history_user").order_by("-history_date", "-history_id")
    page_obj = Paginator(qs, per_page).get_page(page)
    masked = not can_see_full_identity(user)
    return page_obj, [_entry(r, masked) for r in page_obj.object_list]


def person_history(user, person: InsuredPerson, limit: int = 50) -> list[AuditEntry]:
    masked = not can_see_full_identity(user)
    records = list(person.history.select_related("history_user").order_by("-history_date")[:limit])
    enrollment_ids = [e.pk for e in getattr(person, "visible_enrollments", [])]
    records += list(
        Enrollment.history.filter(id__in=enrollment_ids).select_related("history_user").order_by("-history_date")[:limit]
    )
    records.sort(key=lambda r: r.history_date, reverse=True)
    return [_entry(r, masked) for r in records[:limit]]
