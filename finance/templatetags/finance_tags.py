from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def cell(value) -> str:
    """A statement cell: amounts as 1,234.56 (Decimal, never float), other values as text."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if value is None:
        return "—"
    return str(value)
