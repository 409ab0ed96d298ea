"""Form fields for money and dates that hold against hostile input, and a mixin that names the
field in every error message.

Django's DecimalField accepts `NaN`, `Infinity`, exponent notation (`1e30`), full-width digits
and strings of any length, and refuses some of them only later with messages such as "输入一个
数字。" that do not say which field is wrong; DateField accepts 0001-01-01 and 9999-12-31, which
overflow date arithmetic further on (deadlines, months). These fields refuse all of that at
the form, with a Chinese message, before any service runs.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Deadline

#: The largest amount a money column (DecimalField(max_digits=14, decimal_places=2)) holds.
MAX_AMOUNT = Decimal("999999999999.99")
#: Dates outside this range are typing errors or attacks in this domain (birth dates, stays,
#: receipts, due dates); the bounds also keep date arithmetic far from year 1 and 9999.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)

# Plain digits, or digits grouped by thousands with commas as people type them ("10,000,000.00").
_AMOUNT_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", re.ASCII)
_SHOWN = 20  # characters of a refused value quoted back


def shown(value) -> str:
    """A refused value as quoted in a message: short, without control characters."""
    text = "".join(ch if ch.isprintable() else "�" for ch in str(value))
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def named(label, message) -> str:
    """`label：message`, unless the message already starts with the label."""
    label, message = str(label), str(message)
    return message if not label or message.startswith(label) else f"{label}：{message}"


class FieldNamedErrors:
    """Form mixin: every field error names its field (its label), so a message read in a table
    cell, a list of messages or a log still says which input is wrong."""

    def add_error(self, field, error):
        if field is not None and field in self.fields and not isinstance(error, dict):
            label = self.fields[field].label or field
            if not isinstance(error, ValidationError):
                error = ValidationError(error)
            if not hasattr(error, "error_dict"):
                error = ValidationError([
                    ValidationError(named(label, message), code=e.code) for e in error.error_list for message in e
                ])
        super().add_error(field, error)


class MoneyField(forms.DecimalField):
    """An amount in yuan for a `DecimalField(max_digits=14, decimal_places=2)` column: plain
    digits with at most two decimals, within 0 (or `min_value`) .. 999,999,999,999.99.
    Thousands separators are accepted where they group correctly ("10,000,000.00"); `NaN`,
    `Infinity`, exponents, misplaced commas and non-ASCII digits are refused."""

    default_error_messages = {
        "invalid": _("“%(value)s” is not an amount."),
        "too_large": _("The amount %(value)s is too large (at most 999,999,999,999.99)."),
        "decimals": _("The amount %(value)s has more than two decimals."),
        "negative": _("The amount %(value)s is negative."),
        "below": _("The amount must be at least %(min)s."),
    }

    #: A text input, not type=number: a browser's number input refuses "10,000,000.00" (it
    #: clears the value or blocks the submit), so thousands separators would never reach
    #: `to_python`. `inputmode=decimal` still brings up the numeric keypad on a tablet.
    widget = forms.TextInput

    def __init__(self, *, min_value=Decimal("0"), **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        self.floor = None if min_value is None else Decimal(str(min_value))
        super().__init__(min_value=self.floor, max_value=MAX_AMOUNT, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if not widget.is_hidden:
            attrs.setdefault("inputmode", "decimal")
            attrs.setdefault("autocomplete", "off")
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            text = str(value)
        else:
            text = str(value).strip()
        if len(text) > 40 or not _AMOUNT_RE.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": shown(text)})
        text = text.replace(",", "")
        whole, _dot, cents = text.lstrip("-").partition(".")
        if len(whole.lstrip("0")) > 12:
            raise ValidationError(self.error_messages["too_large"], code="too_large", params={"value": shown(text)})
        if len(cents.rstrip("0")) > 2:
            raise ValidationError(self.error_messages["decimals"], code="decimals", params={"value": text})
        return Decimal(text)

    def validate(self, value):
        forms.Field.validate(self, value)
        if value is None:
            return
        if value < 0 and (self.floor is None or self.floor >= 0):
            raise ValidationError(self.error_messages["negative"], code="negative", params={"value": value})
        if self.floor is not None and value < self.floor:
            raise ValidationError(self.error_messages["below"], code="below", params={"min": self.floor})
        if abs(value) > MAX_AMOUNT:
            raise ValidationError(self.error_messages["too_large"], code="too_large", params={"value": value})


class DateInRangeField(forms.DateField):
    """A date between 1900-01-01 and 2100-12-31 (and not after today with `not_future`)."""

    default_error_messages = {
        "invalid": _("“%(value)s” is not a date (YYYY-MM-DD)."),
        "range": _("The date %(value)s is outside %(min)s – %(max)s."),
        "future": _("The date %(value)s is in the future."),
    }

    def __init__(self, *, not_future: bool = False, **kwargs):
        self.not_future = not_future
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and (len(value) > 40 or not value.isprintable()):
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": shown(value)})
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": shown(value)}) from None

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if not MIN_DATE <= value <= MAX_DATE:
            raise ValidationError(self.error_messages["range"], code="range",
                                  params={"value": value, "min": MIN_DATE, "max": MAX_DATE})
        if self.not_future and value > timezone.localdate():
            raise ValidationError(self.error_messages["future"], code="future", params={"value": value})


def check_text(value: str, *, max_length: int) -> None:
    """The checks a form's CharField makes (no NUL character, bounded length), for text a view
    or service receives without a form; raises ValidationError with Django's messages."""
    ProhibitNullCharactersValidator()(value)
    MaxLengthValidator(max_length)(value)


class DeadlineFilterForm(forms.Form):
    """Filters of the deadline list and calendar: contract and area among the user's own, kind,
    state; an invalid or foreign choice is refused (the list then shows the user's whole scope
    cut by the valid filters only)."""

    contract = forms.ModelChoiceField(queryset=None, required=False, label=_("contract"))
    area = forms.ModelChoiceField(queryset=None, required=False, label=_("area"))
    kind = forms.ChoiceField(required=False, label=_("kind"))
    state = forms.ChoiceField(required=False, label=_("state"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        contract_model, area_model = apps.get_model("programs", "Contract"), apps.get_model("programs", "Area")
        self.fields["contract"].queryset = contract_model.objects.for_user(user).order_by("-year", "name")
        self.fields["contract"].label_from_instance = lambda c: c.name
        self.fields["contract"].empty_label = self.fields["area"].empty_label = _("All")
        self.fields["area"].queryset = area_model.objects.for_user(user).order_by("code")
        self.fields["area"].label_from_instance = lambda a: a.name
        self.fields["kind"].choices = [("", _("All")), *Deadline.Kind.choices]
        self.fields["state"].choices = [("", _("All")), *Deadline.State.choices]

    def filters(self) -> dict:
        """The valid filters as keyword arguments of `visible_deadlines`."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        out = {}
        if data.get("contract"):
            out["contract_id"] = data["contract"].pk
        if data.get("area"):
            out["area_id"] = data["area"].pk
        if data.get("kind"):
            out["kind"] = data["kind"]
        if data.get("state"):
            out["state"] = data["state"]
        return out
