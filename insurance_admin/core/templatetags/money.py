from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """253280465.55 → 253,280,465.55 (Decimal in, text out; never through float)."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def thousands(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"
