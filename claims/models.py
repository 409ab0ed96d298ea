"""Settlement records (the national platform's `setlinfo`), their recomputation by the engine,
and the persistent per-person accumulators of approved claims."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids
from insurance_admin.core.money import MONEY
from insurance_admin.core.transitions import StatusChangeBase
from programs.benefit_rules.glossary import CLAIM_KINDS, DRUG_LISTS, HOSP_LEVELS, PLACES
from programs.models import Contract, Program


def _money(verbose: str, **kwargs):
    return models.DecimalField(verbose, **MONEY, default=0, **kwargs)


class ContractRowsQuerySet(models.QuerySet):
    """Rows that belong to a contract: visible to the users who see the contract."""

    def for_user(self, user):
        return self if area_scope_ids(user) is None else self.filter(contract__in=Contract.objects.for_user(user))


class SettlementRowsQuerySet(models.QuerySet):
    """Rows about one settlement (deductions, recoveries): visible with the settlement."""

    def for_user(self, user):
        return self if area_scope_ids(user) is None else self.filter(settlement__in=Settlement.objects.for_user(user))


class SettlementQuerySet(models.QuerySet):
    def for_user(self, user) -> "SettlementQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


class SettlementSource(models.TextChoices):
    INSTANT = "instant", _("Instant settlement")
    MANUAL = "manual", _("Manual claim")


class Settlement(models.Model):
    """One settlement of the basic insurance, with the fields the engine reads (DOMAIN.md §3).

    Instant settlements arrive from hospitals' monthly files with the platform's own
    `hifmi_pay`/`hifob_pay`; the engine's recomputation and the difference are stored beside
    them. `setl_id` is the idempotency key of every import.
    """

    Source = SettlementSource

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="settlements")
    person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("insured person"), on_delete=models.PROTECT, related_name="settlements")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="settlements")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.INSTANT)
    claim = models.ForeignKey("Claim", verbose_name=_("claim"), on_delete=models.PROTECT, null=True, blank=True, related_name="settlements")

    setl_id = models.CharField(_("settlement id"), max_length=40, unique=True)
    mdtrt_id = models.CharField(_("visit id"), max_length=40, blank=True)
    psn_no = models.CharField(_("person number"), max_length=30)
    insutype = models.CharField(_("insurance type"), max_length=6, blank=True)
    med_type = models.CharField(_("medical type"), max_length=6, blank=True)
    begndate = models.DateField(_("admission date"), null=True, blank=True)
    enddate = models.DateField(_("discharge date"))
    setl_time = models.DateTimeField(_("settlement time"), null=True, blank=True)
    fixmedins_code = models.CharField(_("hospital code"), max_length=30, blank=True)
    fixmedins_name = models.CharField(_("hospital"), max_length=200, blank=True)
    hosp_lv = models.CharField(_("hospital level"), max_length=4, blank=True, choices=[(v, v) for v in HOSP_LEVELS])
    claim_kind = models.CharField(_("claim kind"), max_length=32, choices=[(v, v) for v in CLAIM_KINDS])
    place = models.CharField(_("place"), max_length=32, blank=True, choices=[(v, v) for v in PLACES])
    designated = models.BooleanField(_("designated institution/pharmacy"), null=True, blank=True)
    drug_list = models.CharField(_("special-drug list"), max_length=16, blank=True, choices=[(v, v) for v in DRUG_LISTS])

    medfee_sumamt = _money(_("total medical cost"))
    fulamt_ownpay_amt = _money(_("fully self-paid"))
    overlmt_selfpay = _money(_("self-paid above price limits"))
    preselfpay_amt = _money(_("class-B first self-pay"))
    inscp_scp_amt = _money(_("within policy scope"))
    act_pay_dedc = _money(_("deductible borne"))
    hifp_pay = _money(_("basic pooled fund paid"))
    pool_prop_selfpay = models.DecimalField(_("basic fund payment ratio"), max_digits=7, decimal_places=4, default=0)
    hifmi_pay = _money(_("critical-illness insurance paid"))
    hifob_pay = _money(_("large-amount supplementary paid"))
    maf_pay = _money(_("medical assistance paid"))
    psn_part_amt = _money(_("person's share"))
    acct_pay = _money(_("individual account paid"))
    psn_cash_pay = _money(_("cash paid"))
    over_cap_amt = _money(_("policy cost beyond the basic fund's maximum"))
    drug_amount = _money(_("special-drug amount"))
    items = models.JSONField(_("itemised lines"), default=list, blank=True, help_text=_("[{code, type: drug|implant, amount}]"))

    objects = SettlementQuerySet.as_manager()

    class Meta:
        verbose_name = _("settlement record")
        verbose_name_plural = _("settlement records")
        ordering = ["contract", "person", "enddate", "setl_time", "id"]
        indexes = [
            models.Index(fields=["contract", "person", "enddate", "setl_time", "id"], name="settlement_person_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(medfee_sumamt__gte=0, fulamt_ownpay_amt__gte=0, inscp_scp_amt__gte=0, hifp_pay__gte=0,
                            over_cap_amt__gte=0, drug_amount__gte=0, hifmi_pay__gte=0, hifob_pay__gte=0),
                name="settlement_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.setl_id


class SettlementCheck(models.Model):
    """The engine's recomputation of one settlement and its difference from the platform's own
    figure (审核). Derived data: a recomputation replaces a contract's checks wholesale, in one
    transaction, so it lives apart from the platform's facts and is written by bulk insert."""

    settlement = models.OneToOneField(Settlement, on_delete=models.CASCADE, primary_key=True, related_name="verification")
    contract = models.ForeignKey("programs.Contract", on_delete=models.CASCADE, related_name="+")
    engine_payable = models.DecimalField(_("engine payable"), **MONEY)
    engine_by_liability = models.JSONField(_("engine payable by liability"), default=dict, blank=True)
    platform_payable = models.DecimalField(_("platform payable"), **MONEY, null=True, blank=True)
    difference = models.DecimalField(_("difference"), **MONEY, null=True, blank=True, help_text=_("engine − platform"))
    plan_version = models.PositiveIntegerField(_("plan version"))
    recomputed_at = models.DateTimeField(_("recomputed at"))
    not_covered = models.CharField(
        _("not covered"), max_length=200, blank=True,
        help_text=_("why the person was not covered on the discharge date, naming the period (the engine pays 0); "
                    "empty: covered"),
    )

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        indexes = [models.Index(fields=["contract", "difference"], name="check_difference", condition=~Q(difference=0))]

    def __str__(self) -> str:
        return f"{self.settlement_id}: {self.engine_payable} ({self.difference})"


class AccumulatorKind(models.TextChoices):
    LIABILITY = "liability", _("Liability")
    SHARED_CAP = "shared_cap", _("Shared cap")
    ITEM = "item", _("Item")


class Accumulator(models.Model):
    """Running totals of APPROVED claims for one person, contract and liability (or shared cap,
    or item code). Written only by `claims.services.calculation_commit`, inside the approval
    transaction, after locking the person's enrollment row."""

    Kind = AccumulatorKind

    person = models.ForeignKey("programs.InsuredPerson", on_delete=models.PROTECT, related_name="accumulators")
    contract = models.ForeignKey("programs.Contract", on_delete=models.PROTECT, related_name="accumulators")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.CharField(max_length=40, help_text=_("liability or shared-cap code"))
    item_code = models.CharField(max_length=60, blank=True)
    cumulative_base = models.DecimalField(_("cumulative base"), **MONEY, default=0)
    cumulative_paid = models.DecimalField(_("cumulative paid"), **MONEY, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("accumulator")
        verbose_name_plural = _("accumulators")
        constraints = [
            models.UniqueConstraint(fields=["person", "contract", "kind", "code", "item_code"], name="accumulator_unique"),
            models.CheckConstraint(condition=Q(cumulative_base__gte=0, cumulative_paid__gte=0), name="accumulator_non_negative"),
        ]

    def __str__(self) -> str:
        suffix = f"/{self.item_code}" if self.item_code else ""
        return f"{self.contract_id}:{self.person_id}:{self.code}{suffix}"


class Calculation(models.Model):
    """A stored engine result for persisted (approved) records, with its explanation.
    Never changed after it is written: a correction is a new, adjusting calculation."""

    contract = models.ForeignKey("programs.Contract", on_delete=models.PROTECT, related_name="calculations")
    person = models.ForeignKey("programs.InsuredPerson", on_delete=models.PROTECT, related_name="calculations")
    claim = models.ForeignKey("Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="calculations")
    setl_id = models.CharField(_("settlement id"), max_length=40)
    payable = models.DecimalField(_("payable"), **MONEY)
    by_liability = models.JSONField(_("payable by liability"), default=dict)
    explanation = models.JSONField(_("explanation"), default=list)
    plan_version = models.PositiveIntegerField(_("plan version"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("calculation")
        verbose_name_plural = _("calculations")
        ordering = ["-created_at"]
        permissions = [("run_trial", _("Can run trial calculations (试算)"))]
        constraints = [models.CheckConstraint(condition=Q(payable__gte=0), name="calculation_payable_non_negative")]

    def __str__(self) -> str:
        return f"{self.setl_id}: {self.payable}"


class ClaimQuerySet(models.QuerySet):
    def for_user(self, user) -> "ClaimQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


class ClaimStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    DOCUMENTS_COMPLETE = "documents_complete", _("Documents complete")
    CALCULATED = "calculated", _("Calculated")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Returned")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Claim(models.Model):
    """A manual claim (非即时结算) registered at the window. Its life is the transition table
    below; every change goes through `claims.services.claim_transition` and leaves a
    ClaimStatusChange row. The approved amount is never changed afterwards."""

    Status = ClaimStatus

    claim_no = models.CharField(_("claim number"), max_length=30, unique=True)
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="claims")
    person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("insured person"), on_delete=models.PROTECT, related_name="claims")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    registered_by = models.ForeignKey("accounts.User", verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    documents_complete_on = models.DateField(_("documents complete on"), null=True, blank=True)

    # what the claim is about (the settlement records carry the platform's own figures)
    claim_kind = models.CharField(_("claim kind"), max_length=32, choices=[(v, v) for v in CLAIM_KINDS], default="inpatient")
    place = models.CharField(_("place"), max_length=32, blank=True, choices=[(v, v) for v in PLACES])
    fixmedins_code = models.CharField(_("hospital code"), max_length=30, blank=True)
    fixmedins_name = models.CharField(_("hospital"), max_length=200)
    begndate = models.DateField(_("admission date"), null=True, blank=True)
    enddate = models.DateField(_("discharge date"), help_text=_("decides the insurance year (以出院日期为准)"))
    payee_name = models.CharField(_("payee"), max_length=60, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # service deadline (DOMAIN.md §6), set when documents become complete, from ClaimTerms
    due_date = models.DateField(_("due date"), null=True, blank=True)
    due_provisional = models.BooleanField(
        _("provisional due date"), default=False,
        help_text=_("counted through a year whose holiday arrangement is not on file yet"),
    )
    due_rule = models.CharField(_("deadline rule"), max_length=200, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    extended_by = models.ForeignKey("accounts.User", verbose_name=_("extended by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    # duplicate protection: a possible duplicate registered anyway, with who confirmed it
    possible_duplicate_of = models.ForeignKey(
        "self", verbose_name=_("possible duplicate of"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    duplicate_note = models.CharField(_("duplicate check"), max_length=300, blank=True)

    trial_payable = models.DecimalField(
        _("trial payable"), **MONEY, null=True, blank=True,
        help_text=_("the trial calculation at the time of the CALCULATED step; the approved amount is `payable`"),
    )
    approved_by = models.ForeignKey("accounts.User", verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    payable = models.DecimalField(_("payable"), **MONEY, null=True, blank=True)
    # the payment, recorded by finance with the PAID step (its ledger entry carries them too)
    paid_on = models.DateField(_("payment date"), null=True, blank=True)
    payment_voucher = models.CharField(_("voucher number"), max_length=40, blank=True)
    history = HistoricalRecords()

    objects = ClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-registered_at"]
        permissions = [("review_claim", _("Can approve, return or reject claims")), ("pay_claim", _("Can record claim payments"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ClaimStatus.values),
                name="claim_status_valid",
            ),
            # four eyes, also in the database: the approver is never the registering caseworker
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("registered_by")),
                name="claim_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[ClaimStatus.APPROVED.value, ClaimStatus.PAID.value], payable__isnull=False, approved_by__isnull=False)
                | ~Q(status__in=[ClaimStatus.APPROVED.value, ClaimStatus.PAID.value]),
                name="claim_approved_has_amount_and_approver",
            ),
            models.CheckConstraint(
                condition=Q(begndate__isnull=True) | Q(begndate__lte=models.F("enddate")), name="claim_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(extended_by__isnull=True) | ~Q(extension_reason=""), name="claim_extension_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="claim_status_due"),
            models.Index(fields=["person", "enddate"], name="claim_person_enddate"),
        ]

    def __str__(self) -> str:
        return self.claim_no


class ClaimStatusChange(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=Claim.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Claim.Status.choices)
    by = models.ForeignKey("accounts.User", verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["claim", "at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status} → {self.to_status}"


class ClaimTermsUnit(models.TextChoices):
    WORKING = "working", _("working days")
    CALENDAR = "calendar", _("calendar days")


class ClaimTerms(models.Model):
    """A contract's manual-claim rules as data (DOMAIN.md §6): the service deadline, counted
    from the day documents became complete, and the filing window. Quoting the contract's own
    words, so a refusal or a due date can say which rule it applies."""

    Unit = ClaimTermsUnit

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE, related_name="claim_terms")
    deadline_days = models.PositiveSmallIntegerField(_("deadline (days)"), null=True, blank=True, help_text=_("empty: the contract sets none"))
    deadline_unit = models.CharField(_("deadline unit"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    out_of_area_places = models.JSONField(
        _("out-of-area places"), default=list, blank=True, help_text=_("place codes that take the out-of-area deadline")
    )
    out_of_area_days = models.PositiveSmallIntegerField(_("out-of-area deadline (days)"), null=True, blank=True)
    out_of_area_unit = models.CharField(_("out-of-area unit"), max_length=10, choices=Unit.choices, default=Unit.CALENDAR)
    extended_days = models.PositiveSmallIntegerField(
        _("extended deadline (days)"), null=True, blank=True, help_text=_("when a verification is needed (out-of-area claims)")
    )
    extended_unit = models.CharField(_("extended unit"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    deadline_rule_text = models.TextField(_("deadline clause"), blank=True)
    filing_window_months = models.PositiveSmallIntegerField(
        _("filing window (months after the insurance year)"), null=True, blank=True
    )
    filing_rule_text = models.TextField(_("filing clause"), blank=True)
    slip_prefix = models.CharField(
        _("slip number prefix"), max_length=10, blank=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]*$", _("Capital letters and digits, starting with a letter."))],
        help_text=_("The office's own slip numbering: prefix, insurance year, sequence (TL → TL2025-000001). "
                    "Numbers already issued keep their form."),
    )
    history = HistoricalRecords()

    objects = ContractRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim terms")
        verbose_name_plural = _("claim terms")
        constraints = [
            models.CheckConstraint(
                condition=Q(extended_days__isnull=True) | Q(out_of_area_days__isnull=False), name="claimterms_extension_needs_out_of_area"
            ),
        ]

    def __str__(self) -> str:
        return str(self.contract)

    def clean(self) -> None:
        super().clean()
        if self.slip_prefix and self.contract_id:
            clash = ClaimTerms.objects.filter(slip_prefix=self.slip_prefix, contract__year=self.contract.year).exclude(pk=self.pk)
            if clash.exists():  # slip numbers are unique: one prefix per insurance year
                raise ValidationError({"slip_prefix": _("The prefix %(prefix)s is already used by %(contract)s in %(year)s.") % {
                    "prefix": self.slip_prefix, "contract": clash.first().contract.name, "year": self.contract.year}})


class DocumentRequirementQuerySet(models.QuerySet):
    def for_user(self, user) -> "DocumentRequirementQuerySet":
        return self if area_scope_ids(user) is None else self.filter(program__in=Program.objects.for_user(user))


class DocumentRequirement(models.Model):
    """One line of a program's document checklist; the one-time notice (一次性告知书) lists the
    required lines not yet received. Empty kind/place lists mean: every claim."""

    program = models.ForeignKey("programs.Program", verbose_name=_("program"), on_delete=models.CASCADE, related_name="document_requirements")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("document"), max_length=200)
    claim_kinds = models.JSONField(_("only for claim kinds"), default=list, blank=True)
    places = models.JSONField(_("only for places"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = DocumentRequirementQuerySet.as_manager()

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        ordering = ["program", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="document_requirement_unique")]

    def __str__(self) -> str:
        return self.label

    def applies_to(self, claim_kind: str, place: str) -> bool:
        return (not self.claim_kinds or claim_kind in self.claim_kinds) and (not self.places or place in self.places)


class ClaimDocument(models.Model):
    """A document received at the window for a claim."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="documents")
    requirement = models.ForeignKey(DocumentRequirement, verbose_name=_("document"), on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(_("received on"))
    received_by = models.ForeignKey("accounts.User", verbose_name=_("received by"), on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("received document")
        verbose_name_plural = _("received documents")
        ordering = ["claim", "requirement__position"]
        constraints = [models.UniqueConstraint(fields=["claim", "requirement"], name="claim_document_unique")]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.requirement_id}"


# --- settlement slips (结算单) -------------------------------------------------------------


class SettlementSlipQuerySet(models.QuerySet):
    def for_user(self, user) -> "SettlementSlipQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(claim__area_id__in=ids)


class SettlementSlip(models.Model):
    """The settlement slip of an approved claim. Issued once, at its first print, with a number
    sequential per contract (`claims.documents.slips_issue` locks the contract row to draw it);
    every print after that is a SlipPrint with the next copy number."""

    claim = models.OneToOneField(Claim, verbose_name=_("claim"), on_delete=models.PROTECT, related_name="slip")
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="slips")
    sequence = models.PositiveIntegerField(_("sequence"), help_text=_("1, 2, 3 … within the contract, in order of first print"))
    number = models.CharField(_("slip number"), max_length=40, unique=True)
    issued_by = models.ForeignKey("accounts.User", verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))

    objects = SettlementSlipQuerySet.as_manager()

    class Meta:
        verbose_name = _("settlement slip")
        verbose_name_plural = _("settlement slips")
        ordering = ["contract", "sequence"]
        default_permissions = ("view",)
        permissions = [("print_slip", _("Can print settlement slips"))]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="slip_sequence_unique_per_contract"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="slip_sequence_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class SlipPrintQuerySet(models.QuerySet):
    def for_user(self, user) -> "SlipPrintQuerySet":
        return self if area_scope_ids(user) is None else self.filter(slip__in=SettlementSlip.objects.for_user(user))


class SlipPrint(models.Model):
    """One print of a slip (append-only: the print log is the audit trail of who printed what,
    when). Copy 1 is the original; every later copy is a reprint (补打)."""

    slip = models.ForeignKey(SettlementSlip, verbose_name=_("settlement slip"), on_delete=models.PROTECT, related_name="prints")
    copy_no = models.PositiveIntegerField(_("copy number"))
    printed_by = models.ForeignKey("accounts.User", verbose_name=_("printed by"), on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField(_("printed at"))
    batch_size = models.PositiveIntegerField(_("slips in the same document"), default=1)

    objects = SlipPrintQuerySet.as_manager()

    class Meta:
        verbose_name = _("slip print")
        verbose_name_plural = _("slip prints")
        ordering = ["slip", "copy_no"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["slip", "copy_no"], name="slip_print_copy_unique"),
            models.CheckConstraint(condition=Q(copy_no__gte=1), name="slip_print_copy_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.slip_id}#{self.copy_no}"

    @property
    def is_reprint(self) -> bool:
        return self.copy_no > 1


# --- Hospital monthly instant settlements (即时结算) ------------------------------------------


class HospitalSettlementTermsRule(models.TextChoices):
    DAY_OF_NEXT_MONTH = "day_of_next_month", _("By a day of the following month")
    WORKING_DAYS_AFTER_REPORT = "working_days_after_report", _("Working days after the hospital's report")


class HospitalSettlementTerms(models.Model):
    """When the insurer pays a hospital's monthly instant settlements (DOMAIN.md §6), as data.

    Tongliao: last month's advances by the 30th of the next month (the month's last day when it
    is shorter). Taikang: hospitals report by the 10th, the insurer pays within 15 working days
    of the report. A contract without terms pays "by agreement" (no computed due date).
    """

    Rule = HospitalSettlementTermsRule

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                    related_name="hospital_settlement_terms")
    rule = models.CharField(_("payment rule"), max_length=32, choices=Rule.choices)
    pay_day = models.PositiveSmallIntegerField(_("pay by day of the following month"), null=True, blank=True,
                                               help_text=_("1–31; the month's last day when the month is shorter"))
    report_by_day = models.PositiveSmallIntegerField(_("hospitals report by day"), null=True, blank=True,
                                                     help_text=_("day of the month after the settlement month"))
    working_days = models.PositiveSmallIntegerField(_("working days to pay"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("contract clause"))
    history = HistoricalRecords()

    objects = ContractRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("hospital settlement terms")
        verbose_name_plural = _("hospital settlement terms")
        constraints = [
            models.CheckConstraint(
                condition=(Q(rule="day_of_next_month", pay_day__gte=1, pay_day__lte=31)
                           | Q(rule="working_days_after_report", working_days__gte=1)),
                name="hospital_terms_rule_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.get_rule_display()}"


class HospitalBatchQuerySet(models.QuerySet):
    def for_user(self, user) -> "HospitalBatchQuerySet":
        """A batch is visible to users whose scope covers the contract's region (a hospital
        serves the whole pooling region, not one county)."""
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class HospitalBatchStatus(models.TextChoices):
    PENDING = "pending", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated, awaiting confirmation")
    APPLYING = "applying", _("Importing")
    DONE = "done", _("Imported")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class HospitalBatch(models.Model):
    """One hospital's monthly instant-settlement file for one contract, from upload to the
    amount payable to the hospital. Rows are written in bulk (no per-row history): the batch
    itself and its HospitalBatchLog rows are the audit record (who, file hash, counts, summary).
    """

    Status = HospitalBatchStatus

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="hospital_batches")
    fixmedins_code = models.CharField(_("hospital code"), max_length=30, blank=True)
    fixmedins_name = models.CharField(_("hospital"), max_length=200, blank=True)
    month = models.DateField(_("settlement month"), help_text=_("first day of the month"))
    reported_on = models.DateField(_("reported on"), help_text=_("the day the hospital's report arrived"))
    file = models.FileField(_("file"), upload_to="hospital-batches/%Y/%m/", blank=True,
                            help_text=_("empty for imports made row by row in the admin"))
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    file_format = models.CharField(_("file format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    uploaded_by = models.ForeignKey("accounts.User", verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey("accounts.User", verbose_name=_("confirmed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    errors = models.JSONField(_("errors"), default=list, blank=True, help_text=_("[{row, column, message}], the first 500"))
    error_count = models.PositiveIntegerField(_("error count"), default=0)
    rejected_file = models.FileField(_("rejected rows"), upload_to="hospital-batches/rejected/%Y/%m/", blank=True,
                                     help_text=_("every rejected row with its line and reasons (CSV)"))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("new settlements"), default=0)
    unchanged_count = models.PositiveIntegerField(_("already imported, unchanged"), default=0)
    differing_count = models.PositiveIntegerField(_("differences from the platform"), default=0)
    platform_total = models.DecimalField(_("platform paid"), **MONEY, default=0, help_text=_("yuan, sum of the platform's hifmi_pay/hifob_pay of the new settlements"))
    engine_total = models.DecimalField(_("engine payable"), **MONEY, default=0)
    deductions_total = models.DecimalField(_("confirmed deductions"), **MONEY, default=0)
    recoveries_total = models.DecimalField(_("recoveries offset"), **MONEY, default=0)
    payable_total = models.DecimalField(_("payable to the hospital"), **MONEY, default=0,
                                        help_text=_("platform paid − confirmed deductions − recoveries offset; negative: the hospital owes"))
    due_date = models.DateField(_("payment due"), null=True, blank=True, help_text=_("empty: by agreement"))
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    preview = models.JSONField(_("preview"), default=list, blank=True, help_text=_("the first rows as read"))

    objects = HospitalBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("hospital settlement batch")
        verbose_name_plural = _("hospital settlement batches")
        ordering = ["-uploaded_at", "-id"]
        permissions = [
            ("import_hospitalbatch", _("Can import hospital settlement files")),
            ("record_deduction", _("Can record deductions and recoveries")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HospitalBatchStatus.values),
                name="hospital_batch_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(platform_total__gte=0, engine_total__gte=0, deductions_total__gte=0, recoveries_total__gte=0),
                name="hospital_batch_totals_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fixmedins_name or self.file_name} {self.month:%Y-%m}"


class HospitalBatchSettlement(models.Model):
    """The settlements a batch brought in. A settlement belongs to the first batch that
    imported it; re-imports of the same row count as unchanged and link nothing."""

    settlement = models.OneToOneField(Settlement, on_delete=models.PROTECT, primary_key=True, related_name="hospital_batch_link")
    batch = models.ForeignKey(HospitalBatch, on_delete=models.PROTECT, related_name="settlement_links")
    row_no = models.PositiveIntegerField(_("row"))

    class Meta:
        verbose_name = _("batch settlement")
        verbose_name_plural = _("batch settlements")
        indexes = [models.Index(fields=["batch", "row_no"], name="batch_settlement_row")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no}"


class HospitalBatchLogQuerySet(models.QuerySet):
    def for_user(self, user) -> "HospitalBatchLogQuerySet":
        return self if area_scope_ids(user) is None else self.filter(batch__in=HospitalBatch.objects.for_user(user))


class HospitalBatchLog(models.Model):
    """Append-only audit of a batch: one row per step (upload, validation, confirmation,
    import, refusal), with who, the file hash and a summary of counts and totals."""

    batch = models.ForeignKey(HospitalBatch, on_delete=models.CASCADE, related_name="log")
    action = models.CharField(_("action"), max_length=20)
    by = models.ForeignKey("accounts.User", verbose_name=_("by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    summary = models.JSONField(_("summary"), default=dict)

    objects = HospitalBatchLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("batch log entry")
        verbose_name_plural = _("batch log")
        ordering = ["batch", "at", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.action}"


class HospitalBatchStatusChange(StatusChangeBase):
    """One status change of a hospital monthly file (claims.imports.batches.HOSPITAL_BATCH_STATES);
    the HospitalBatchLog beside it keeps each step's counts and totals."""

    batch = models.ForeignKey(HospitalBatch, on_delete=models.CASCADE, related_name="status_changes")

    class Meta(StatusChangeBase.Meta):
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.from_status or '—'} → {self.to_status}"


class Deduction(models.Model):
    """A deduction (拒付/扣减) for non-compliant items (不合规费用) of one settlement record.

    On an instant settlement (`batch` set) it reduces what the hospital is paid only once the
    hospital, the authority and the insurer have all confirmed it; the amount never exceeds
    what the platform paid on the settlement. On a manual claim's record (`claim` set) the
    reviewer records it before approving; the approval pays the engine's amount less it,
    which never goes below zero (`claims.workflow.claim_deduction_record`)."""

    settlement = models.ForeignKey(Settlement, verbose_name=_("settlement record"), on_delete=models.PROTECT, related_name="deductions")
    batch = models.ForeignKey(HospitalBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="deductions",
                              null=True, blank=True)
    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.PROTECT, related_name="deductions",
                              null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY, help_text=_("yuan, > 0"))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey("accounts.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    hospital_confirmed_on = models.DateField(_("confirmed by the hospital"), null=True, blank=True)
    authority_confirmed_on = models.DateField(_("confirmed by the authority"), null=True, blank=True)
    insurer_confirmed_on = models.DateField(_("confirmed by the insurer"), null=True, blank=True)
    history = HistoricalRecords()

    objects = SettlementRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        ordering = ["batch", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deduction_amount_positive"),
            # a deduction belongs to a hospital batch or to a manual claim, never both
            models.CheckConstraint(condition=Q(batch__isnull=True, claim__isnull=False) | Q(batch__isnull=False, claim__isnull=True),
                                   name="deduction_batch_or_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}: −{self.amount}"

    @property
    def confirmed(self) -> bool:
        return bool(self.hospital_confirmed_on and self.authority_confirmed_on and self.insurer_confirmed_on)


class Recovery(models.Model):
    """An amount found wrong after payment (追回), recovered by offsetting it against the same
    hospital's next imported batch of the same program."""

    settlement = models.ForeignKey(Settlement, verbose_name=_("settlement record"), on_delete=models.PROTECT, related_name="recoveries")
    program = models.ForeignKey("programs.Program", verbose_name=_("program"), on_delete=models.PROTECT, related_name="+")
    fixmedins_code = models.CharField(_("hospital code"), max_length=30)
    amount = models.DecimalField(_("amount"), **MONEY, help_text=_("yuan, > 0"))
    reason = models.TextField(_("reason"))
    found_on = models.DateField(_("found on"))
    recorded_by = models.ForeignKey("accounts.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    offset_batch = models.ForeignKey(HospitalBatch, verbose_name=_("offset against batch"), on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="recoveries_offset")
    history = HistoricalRecords()

    objects = SettlementRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["-found_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_amount_positive")]
        indexes = [models.Index(fields=["program", "fixmedins_code"], name="recovery_hospital",
                                condition=Q(offset_batch__isnull=True))]

    def __str__(self) -> str:
        return f"{self.settlement_id}: {self.amount}"


from .member_models import (  # noqa: E402,F401  (same app; split only for file size)
    ClaimReport,
    EntitlementGroup,
    EntitlementKind,
    EntitlementUse,
)
