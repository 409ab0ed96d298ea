"""django-import-export resources. `SettlementResource` imports a hospital's monthly file in
the admin (preview with row-level errors, then confirm), keyed on `setl_id`, with the same row
checks as the finance page (`claims.imports.rows`): any error leaves no confirm button, so a
file is imported whole or not at all. Large files belong on the page (a Celery task)."""

import hashlib

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.encodings import EncodingFallbackCSV
from insurance_admin.core.exports import NeutralisedExportMixin
from insurance_admin.core.masking import mask_certno, mask_name
from programs.models import Contract

from . import imports
from .imports.rows import (
    ChunkRow,
    RowContext,
    RowErrors,
    _check_header,
    _text,
    clean_row,
    render_error,
    resolve_chunk,
)
from .models import Settlement

STORED_COLUMNS = [c for c in imports.KNOWN_COLUMNS if c not in ("certno", "psn_name", "gend", "brdy")]


class SniffedCSV(EncodingFallbackCSV):
    """Hospital files in the admin: UTF-8 (BOM or not) or GBK, with the import's own message."""

    undecodable_message = imports.MESSAGES["encoding"]


class SettlementResource(NeutralisedExportMixin, resources.ModelResource):
    certno = fields.Field(attribute=None, column_name="certno", readonly=True)

    def __init__(self, contract: Contract | None = None, user=None, month=None, **kwargs):
        super().__init__(**kwargs)
        self.contract, self.user, self.month = contract, user, month
        self.rows: dict[int, ChunkRow] = {}
        self.by_setl_id: dict[str, ChunkRow] = {}
        self.ctx = RowContext.for_contract(contract) if contract else None
        self.sha256 = ""

    class Meta:
        model = Settlement
        import_id_fields = ["setl_id"]
        fields = ["setl_id", *[c for c in STORED_COLUMNS if c != "setl_id"], "certno"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        if self.contract is None:
            raise ValidationError("contract required")
        dataset.headers = [str(h or "").strip().lstrip("\ufeff").lower() for h in dataset.headers]
        errors = RowErrors()
        _check_header(dataset.headers, self.contract, errors)
        if errors:
            raise ValidationError([render_error(e) for e in errors.items])
        self.sha256 = hashlib.sha256(dataset.export("csv").encode()).hexdigest()
        self.seen: dict[str, int] = {}

    def before_import_row(self, row, **kwargs):
        number = kwargs["row_number"] + 1  # the spreadsheet row: the header is row 1
        errors = RowErrors()
        values = clean_row(number, row, self.ctx, errors)
        resolved = []
        if values is not None:
            first = self.seen.setdefault(values["setl_id"], number)
            if first != number:
                errors.add(number, "setl_id", "duplicate_setl_id", value=values["setl_id"], first=first)
            else:
                resolved = resolve_chunk([ChunkRow(number, values)], self.ctx, area_scope_ids(self.user), errors)
        if errors:
            by_column: dict[str, list[str]] = {}
            for e in errors.items:
                if e["column"] in self.fields:  # shown under the column's name by import-export
                    by_column.setdefault(e["column"], []).append(render_error(e))
                else:
                    label = imports.column_label(e["column"])
                    by_column.setdefault("__all__", []).append(f"{label}：{render_error(e)}" if label else render_error(e))
            raise ValidationError(by_column)
        self.rows[kwargs["row_number"]] = self.by_setl_id[values["setl_id"]] = resolved[0]

    def import_instance(self, instance, row, **kwargs):
        chunk_row = self.rows[kwargs["row_number"]]
        if chunk_row.existing:
            return
        for name, value in chunk_row.values.items():
            if not name.startswith("_"):
                setattr(instance, name, value)
        instance.contract = self.contract
        instance.person_id = chunk_row.person_id
        instance.area_id = chunk_row.area_id
        instance.source = Settlement.Source.INSTANT

    def skip_row(self, instance, original, row, import_validation_errors=None):
        chunk_row = self.by_setl_id.get(_text(row.get("setl_id")))
        return not import_validation_errors and chunk_row is not None and chunk_row.existing

    def after_import(self, dataset, result, **kwargs):
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        created = [(r.object_id, n + 1) for n, r in enumerate(result.rows, start=1) if r.import_type == r.IMPORT_TYPE_NEW]
        imports.batch_record_admin_import(
            contract=self.contract, month=self.month, user=self.user, file_name=kwargs.get("file_name") or "",
            sha256=self.sha256, created=created, row_count=len(dataset), hospital=tuple(self.ctx.hospital or ("", "")),
        )

    def get_export_queryset(self, request=None, **kwargs):
        return Settlement.objects.for_user(getattr(request, "user", None))

    def dehydrate_certno(self, obj):
        return ""  # identities are not exported from settlements


class ClaimExportResource(NeutralisedExportMixin, resources.Resource):
    """A claim list as a spreadsheet. Identities are always masked: an export leaves the
    system, and nobody downstream needs full ID numbers (DOMAIN.md §1, personal data). Text
    typed at the window (a hospital name) is neutralised (`core.exports`); amounts are
    Decimals, so the XLSX has numeric cells."""

    claim_no = fields.Field(attribute="claim_no", column_name="理赔编号")
    contract = fields.Field(attribute="contract__code", column_name="合同")
    area = fields.Field(attribute="area__name", column_name="旗县区")
    person = fields.Field(column_name="参保人")
    certno = fields.Field(column_name="身份证号")
    status = fields.Field(column_name="状态")
    hospital = fields.Field(attribute="fixmedins_name", column_name="医院")
    begndate = fields.Field(attribute="begndate", column_name="入院日期")
    enddate = fields.Field(attribute="enddate", column_name="出院日期")
    documents_complete_on = fields.Field(attribute="documents_complete_on", column_name="材料齐全日期")
    due_date = fields.Field(attribute="due_date", column_name="办结时限")
    trial_payable = fields.Field(attribute="trial_payable", column_name="试算金额",
                                 widget=widgets.DecimalWidget(coerce_to_string=False))
    payable = fields.Field(attribute="payable", column_name="核定赔付金额", widget=widgets.DecimalWidget(coerce_to_string=False))

    class Meta:
        export_order = ("claim_no", "contract", "area", "person", "certno", "status", "hospital", "begndate", "enddate",
                        "documents_complete_on", "due_date", "trial_payable", "payable")

    def get_queryset(self):  # exports are always given the (scoped) queryset by the view
        raise NotImplementedError

    def dehydrate_person(self, claim):
        return mask_name(claim.person.name)

    def dehydrate_certno(self, claim):
        return mask_certno(claim.person.certno)

    def dehydrate_status(self, claim):
        return str(claim.get_status_display())
