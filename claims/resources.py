"""Import/export resources (django-import-export), keyed on natural keys."""

from import_export import fields, resources

from programs.masking import mask_certno, mask_name


class ClaimExportResource(resources.Resource):
    """A claim list as a spreadsheet. Identities are always masked: an export leaves the
    system, and nobody downstream needs full ID numbers (DOMAIN.md §1, personal data)."""

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
    trial_payable = fields.Field(attribute="trial_payable", column_name="试算金额")
    payable = fields.Field(attribute="payable", column_name="核定赔付金额")

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
