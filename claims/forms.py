"""The caseworker's trial-calculation (试算) form, shaped by the contract's own rules: only
the amount fields its base formulas read and the attributes its rules test are asked for."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors, MoneyField
from programs.benefit_rules.glossary import CLAIM_KINDS, DRUG_LISTS, HOSP_LEVELS, PLACES

from .engine import SettlementRecord, compile_plan
from .engine.io import TrialInputError, load_json, parse_amount, trial_input_from_data, where_item
from .engine.records import ItemLine
from .presentation import CODE_LABELS, FIELD_LABELS, HOSP_LEVEL_LABELS

ATTRIBUTE_FIELDS = ("place", "hosp_lv", "designated", "drug_list")


def plan_inputs(plan) -> tuple[list[str], list[str], list[str]]:
    """(claim kinds, amount fields, record attributes) the plan's rules use, in a stable order."""
    kinds = [k for k in CLAIM_KINDS if any(k in li.claim_kinds for li in plan.liabilities)]
    amounts: list[str] = []
    for li in plan.liabilities:
        for term in li.base:
            if term.field not in amounts:
                amounts.append(term.field)
    compiled = compile_plan(plan)
    needed = set().union(*(compiled.required_attributes(k) for k in kinds)) if kinds else set()
    return kinds, amounts, [a for a in ATTRIBUTE_FIELDS if a in needed]


def payout_fields(plan) -> list[str]:
    """The amount fields this contract's payout is computed from: the fields of its
    liabilities' base formulas, in the plan's order (Taikang, Zhenping: 超基本医保封顶线合规费用;
    Beijing: the in-catalog parts, then 全自费金额 and the special-drug amount)."""
    return plan_inputs(plan)[1]


def _choices(values, labels=CODE_LABELS):
    return [("", "—")] + [(v, labels.get(v, v)) for v in values]


#: Free text typed at the window (notes, reasons): long enough for any real note, short enough
#: that a pasted file or a 50,000-character attack is refused with a message.
TEXT_MAX = 2000


class TrialRecordForm(FieldNamedErrors, forms.Form):
    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        kinds, amounts, attributes = plan_inputs(plan)
        self.amount_fields = amounts
        self.fields["setl_id"] = forms.CharField(label=gettext_lazy("settlement id"), required=False, max_length=40)
        self.fields["enddate"] = DateInRangeField(label=gettext_lazy("discharge date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        self.fields["claim_kind"] = forms.ChoiceField(label=gettext_lazy("claim kind"), choices=_choices(kinds))
        places = plan.places or PLACES
        if "place" in attributes:
            self.fields["place"] = forms.ChoiceField(label=gettext_lazy("place"), choices=_choices(places))
        if "hosp_lv" in attributes:
            self.fields["hosp_lv"] = forms.ChoiceField(label=gettext_lazy("hospital level"), choices=_choices(HOSP_LEVELS, HOSP_LEVEL_LABELS), required=False)
        if "drug_list" in attributes:
            self.fields["drug_list"] = forms.ChoiceField(label=gettext_lazy("special-drug list"), choices=_choices(DRUG_LISTS), required=False)
        if "designated" in attributes:
            self.fields["designated"] = forms.BooleanField(label=gettext_lazy("designated institution/pharmacy"), required=False)
        for name in amounts:
            self.fields[name] = MoneyField(label=FIELD_LABELS.get(name, name), required=False)
        if "fulamt_ownpay_amt" in amounts:
            self.fields["items"] = forms.CharField(
                label=gettext_lazy("itemised lines"),
                required=False,
                max_length=100_000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=gettext_lazy('JSON, e.g. [{"code": "D001", "type": "drug", "amount": "12000.00"}]'),
            )

    def clean_items(self):
        raw = (self.cleaned_data.get("items") or "").strip()
        if not raw:
            return ()
        try:
            data = load_json(raw)  # numbers as Decimal, NaN/Infinity and deep nesting refused
            if not isinstance(data, list):
                raise TypeError
            lines = []
            for n, item in enumerate(data):
                if not (isinstance(item, dict) and isinstance(item.get("code"), str) and isinstance(item.get("type"), str)):
                    raise TypeError
                lines.append(ItemLine(item["code"], item["type"], parse_amount(item["amount"], where_item(n), "amount")))
            return tuple(lines)
        except (ValueError, KeyError, TypeError, InvalidOperation):
            raise forms.ValidationError(_("Itemised lines must be a JSON list of {code, type, amount}.")) from None

    def record(self, index: int) -> SettlementRecord:
        d = self.cleaned_data
        return SettlementRecord(
            setl_id=d.get("setl_id") or f"试算{index + 1}",
            psn_no="",
            enddate=d["enddate"],
            claim_kind=d["claim_kind"],
            place=d.get("place") or None,
            hosp_lv=d.get("hosp_lv") or None,
            designated=d.get("designated") if "designated" in self.fields else None,
            drug_list=d.get("drug_list") or None,
            items=d.get("items") or (),
            **{name: d.get(name) or Decimal("0") for name in self.amount_fields},
        )


class BaseTrialFormSet(forms.BaseFormSet):
    def __init__(self, *args, plan, **kwargs):
        self.plan = plan
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "plan": self.plan}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, plan=self.plan)
        self.add_fields(form, None)
        return form


TrialFormSet = forms.formset_factory(TrialRecordForm, formset=BaseTrialFormSet, extra=3, max_num=20)


PASTE_PERSON = "_"


def parse_pasted(text: str, plan) -> list[SettlementRecord]:
    """Settlement records pasted as JSON: the `settlements` list of the trial-calc input (or a
    whole input document). The person is the one on the page, so `psn_no` may be left out.
    Raises TrialInputError naming the record and field."""
    data = load_json(text)
    settlements = data.get("settlements") if isinstance(data, dict) else data
    if not isinstance(settlements, list):
        raise TrialInputError(_("Paste a JSON list of settlement records."))
    settlements = [{**s, "psn_no": PASTE_PERSON} if isinstance(s, dict) else s for s in settlements]
    return trial_input_from_data({"persons": [{"psn_no": PASTE_PERSON}], "settlements": settlements}, plan).records


# --- registration of a manual claim (非即时结算) ---------------------------------------------

RECORD_AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                  "act_pay_dedc", "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay", "psn_cash_pay")
REGISTRATION_LABELS = {
    "overlmt_selfpay": "超限价自付", "act_pay_dedc": "实际起付线", "maf_pay": "医疗救助支出", "psn_cash_pay": "个人现金支付",
}


class ClaimRegistrationForm(FieldNamedErrors, forms.Form):
    """The claim: what happened where, who is paid, which documents came in. The contract's
    rules decide which kinds and places are offered."""

    def __init__(self, *args, plan, requirements, **kwargs):
        super().__init__(*args, **kwargs)
        kinds, _amounts, attributes = plan_inputs(plan)
        self.fields["claim_kind"] = forms.ChoiceField(label=gettext_lazy("claim kind"), choices=_choices(kinds))
        if "place" in attributes:
            self.fields["place"] = forms.ChoiceField(label=gettext_lazy("place"), choices=_choices(plan.places or PLACES))
        self.fields["fixmedins_code"] = forms.CharField(label=gettext_lazy("hospital code"), max_length=30, required=False)
        self.fields["fixmedins_name"] = forms.CharField(label=gettext_lazy("hospital"), max_length=200)
        self.fields["hosp_lv"] = forms.ChoiceField(
            label=gettext_lazy("hospital level"), choices=_choices(HOSP_LEVELS, HOSP_LEVEL_LABELS), required="hosp_lv" in attributes
        )
        # the browser's date input reads and sends ISO dates whatever the interface language
        date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["begndate"] = DateInRangeField(label=gettext_lazy("admission date"), widget=date, required=False, not_future=True)
        self.fields["enddate"] = DateInRangeField(label=gettext_lazy("discharge date"), widget=date, not_future=True,
                                                  initial=lambda: _today_within(plan))
        self.fields["payee_name"] = forms.CharField(label=gettext_lazy("payee"), max_length=60, required=False,
                                                    help_text=gettext_lazy("empty: the insured person"))
        self.fields["bank_name"] = forms.CharField(label=gettext_lazy("bank"), max_length=100, required=False)
        self.fields["bank_account"] = forms.CharField(label=gettext_lazy("bank account"), max_length=40, required=False)
        self.fields["documents"] = forms.ModelMultipleChoiceField(
            label=gettext_lazy("documents received"), queryset=requirements, required=False, widget=forms.CheckboxSelectMultiple
        )
        self.fields["received_on"] = DateInRangeField(label=gettext_lazy("documents received on"), widget=date, required=False,
                                                      not_future=True, initial=timezone.localdate)
        self.fields["notes"] = forms.CharField(label=gettext_lazy("notes"), required=False, max_length=TEXT_MAX,
                                               widget=forms.Textarea(attrs={"rows": 2}))
        self.fields["confirm_duplicate"] = forms.BooleanField(
            label=gettext_lazy("I checked the possible duplicate: register anyway"), required=False
        )

    def clean(self):
        data = super().clean()
        received_before_discharge(self, data.get("received_on"), data.get("enddate"))
        return data


def _today_within(plan):
    """Today, as the default discharge date, when it lies in the contract's insurance year (a
    claim on last year's contract is typed, not defaulted to a date it would refuse)."""
    today = timezone.localdate()
    return today if plan.period_start <= today <= plan.period_end else None


def received_before_discharge(form, received_on, enddate) -> None:
    """Documents about a stay exist only once the stay ended: refuse a receipt date before it."""
    if received_on and enddate and received_on < enddate:
        form.add_error("received_on", _("The documents cannot have been received (%(received)s) before the discharge "
                                        "(%(discharge)s).") % {"received": received_on, "discharge": enddate})


class SettlementRecordForm(FieldNamedErrors, forms.Form):
    """One basic-insurance settlement (the national `setlinfo` fields, DOMAIN.md §3). The
    fields the contract's payout is computed from come first (`payout_fields()`, read from the
    plan's base formulas: no contract is named here), then the record's id and the other
    amounts the platform reports."""

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        _kinds, payout, attributes = plan_inputs(plan)
        for name in payout:
            self._money(name)
        if "fulamt_ownpay_amt" in payout:  # per-item caps (Beijing): the out-of-catalog lines the payout reads
            self.fields["items"] = forms.CharField(
                label=gettext_lazy("itemised lines"), required=False, max_length=100_000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=gettext_lazy('JSON, e.g. [{"code": "D001", "type": "drug", "amount": "12000.00"}]'),
            )
        #: names of the fields shown first, as "what decides the payout"
        self.payout_names = list(self.fields)
        self.fields["setl_id"] = forms.CharField(label=gettext_lazy("settlement id"), max_length=40)
        self.fields["mdtrt_id"] = forms.CharField(label=gettext_lazy("visit id"), max_length=40, required=False)
        for name in RECORD_AMOUNTS:
            if name not in self.fields:
                self._money(name)
        if "drug_list" in attributes:
            self.fields["drug_list"] = forms.ChoiceField(label=gettext_lazy("special-drug list"), choices=_choices(DRUG_LISTS), required=False)
        if "designated" in attributes:
            self.fields["designated"] = forms.BooleanField(label=gettext_lazy("designated institution/pharmacy"), required=False)

    def _money(self, name: str) -> None:
        self.fields[name] = MoneyField(
            label=FIELD_LABELS.get(name) or REGISTRATION_LABELS.get(name, name), required=name == "medfee_sumamt",
        )

    def payout_group(self) -> list:
        return [self[name] for name in self.payout_names]

    def other_group(self) -> list:
        return [self[name] for name in self.fields if name not in self.payout_names]

    clean_items = TrialRecordForm.clean_items

    def record(self) -> dict:
        d = self.cleaned_data
        record = {name: d.get(name) or Decimal("0") for name in self.fields
                  if name not in ("setl_id", "mdtrt_id", "drug_list", "designated", "items")}
        if d.get("items"):
            record["items"] = [{"code": i.code, "type": i.item_type, "amount": f"{i.amount:.2f}"} for i in d["items"]]
        record["setl_id"] = d["setl_id"].strip()
        record["mdtrt_id"] = d.get("mdtrt_id", "")
        if "drug_list" in self.fields:
            record["drug_list"] = d.get("drug_list", "")
        if "designated" in self.fields:
            record["designated"] = d.get("designated", False)
        return record


class BaseRecordFormSet(BaseTrialFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(f.has_changed() for f in self.forms):
            raise forms.ValidationError(_("Enter at least one settlement record."))


SettlementRecordFormSet = forms.formset_factory(SettlementRecordForm, formset=BaseRecordFormSet, extra=1, max_num=20)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=[])
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DocumentsForm(FieldNamedErrors, forms.Form):
    def __init__(self, *args, requirements, enddate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.enddate = enddate
        self.fields["documents"] = forms.ModelMultipleChoiceField(
            label=gettext_lazy("documents received"), queryset=requirements, widget=forms.CheckboxSelectMultiple
        )
        self.fields["received_on"] = DateInRangeField(label=gettext_lazy("received on"), not_future=True,
                                                      widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        received_before_discharge(self, data.get("received_on"), self.enddate)
        return data


class ExtensionForm(FieldNamedErrors, forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason for the extension"), max_length=TEXT_MAX,
                             widget=forms.Textarea(attrs={"rows": 2}))


class PaymentForm(FieldNamedErrors, forms.Form):
    """What finance records with the PAID step; the workflow names whatever is missing."""

    # the browser's date input reads and sends ISO dates whatever the interface language
    paid_on = DateInRangeField(label=gettext_lazy("payment date"), required=False, not_future=True,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    voucher_no = forms.CharField(label=gettext_lazy("voucher number"), max_length=40, required=False)


class ClaimDeductionForm(FieldNamedErrors, forms.Form):
    """A reviewer's deduction (拒付/扣减) on one record of a manual claim under review; the
    workflow checks it against what the engine pays on the record."""

    settlement = forms.TypedChoiceField(label=gettext_lazy("settlement record"), coerce=int)
    amount = MoneyField(label=gettext_lazy("deduction amount"))
    reason = forms.CharField(label=gettext_lazy("deduction reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, settlements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["settlement"].choices = [(s.pk, s.setl_id) for s in settlements]
