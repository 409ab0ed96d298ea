"""django-import-export for small enrollment lists in the admin (preview, row errors, confirm).

Each row is checked by the same rules as the batch import (`programs.registry.rows`); a
rejected row is shown in the preview as skipped with its reason and left out when the user
confirms; a valid row goes through `services.enrollment_list_row_apply` (dated changes, the
Beijing supersession). Large lists and complete lists with exits: the batch import page.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from import_export import resources
from import_export.formats.base_formats import XLSX
from import_export.results import RowResult

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.encodings import EncodingFallbackCSV
from insurance_admin.core.exports import NeutralisedExportMixin
from insurance_admin.core.imports.files import ImportRefused
from insurance_admin.core.masking import mask_certno, mask_name

from . import services
from .models import Area, Contract, Enrollment, ImportBatch
from .registry.files import COLUMNS, FIELDS, REQUIRED, cell_text
from .registry.rows import RowContext, check_row, reasons

IMPORT_FORMATS = [EncodingFallbackCSV, XLSX]


class EnrollmentListResource(NeutralisedExportMixin, resources.ModelResource):
    class Meta:
        model = Enrollment
        fields = ()
        report_skipped = True
        skip_diff = True

    def __init__(self, contract: Contract | None = None, effective_date: dt.date | None = None, user=None,
                 source: str = ImportBatch.Source.GROUP):
        super().__init__()
        self.contract = contract
        self.effective_date = effective_date
        self.user = user
        self.source = source
        self._seen: dict[str, int] = {}
        self._positions: dict[str, str] = {}

    def get_diff_headers(self):
        return [*FIELDS, str(reasons_header())]

    def get_user_visible_fields(self):
        return []

    def before_import(self, dataset, **kwargs):
        headers = [str(h or "").strip().lstrip("\ufeff") for h in dataset.headers or []]
        lookup = {alias.lower(): canonical for canonical, aliases in COLUMNS.items() for alias in aliases}
        self._positions = {lookup[h.lower()]: h for h in headers if h.lower() in lookup}

        missing = [c for c in REQUIRED if c not in self._positions]
        if missing:
            raise ImportRefused("structure", gettext("Missing required columns: %(cols)s.") % {"cols": ", ".join(missing)})
        self._seen = {}
        with translation.override(settings.LANGUAGE_CODE):
            self._texts = reasons()
        contract = self.contract
        region = contract.program.region
        lookup_areas: dict[str, int] = {}
        for area in Area.objects.filter(parent=region) | Area.objects.filter(pk=region.pk, level=Area.Level.COUNTY):
            lookup_areas[area.code] = area.pk
            lookup_areas[area.name] = area.pk

        self._ctx = RowContext(
            area_ids=lookup_areas,
            scope=area_scope_ids(self.user),
            period_start=contract.period_start,
            period_end=contract.period_end,
            effective_date=self.effective_date or contract.period_start,
            today=timezone.localdate(),
        )

    def import_row(self, row, instance_loader, **kwargs):
        result = RowResult()
        number = kwargs.get("row_number", 0)
        values = tuple(cell_text(row.get(self._positions[f])) if f in self._positions else "" for f in FIELDS)
        reason, checked = check_row(values, self._ctx, self._texts)
        if checked is not None:
            first = self._seen.get(checked.certno)
            if first is not None:
                reason, checked = self._texts["duplicate"].format(line=first + 1), None
            else:
                self._seen[checked.certno] = number
        shown = list(values)
        shown[1], shown[2] = mask_certno(values[1]), mask_name(values[2])
        if checked is None:
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            result.diff = [*shown, reason]
            return result
        kind, enrollment = services.enrollment_list_row_apply(
            contract=self.contract, row=checked, effective_date=self._ctx.effective_date, source=self.source,
            reason="admin import",
        )
        result.import_type = {"new": RowResult.IMPORT_TYPE_NEW, "update": RowResult.IMPORT_TYPE_UPDATE}.get(
            kind, RowResult.IMPORT_TYPE_SKIP
        )
        result.diff = [*shown, ""]
        result.instance = enrollment
        result.object_id = enrollment.pk
        result.object_repr = str(enrollment.person)
        return result




def reasons_header():
    return gettext_lazy("reason")
