from django import template

from programs import masking

register = template.Library()


@register.filter
def certno_for(certno: str, user) -> str:
    """The ID number in full for roles that need it, masked for everyone else."""
    return masking.certno_for(user, certno)


@register.filter
def name_for(name: str, user) -> str:
    return masking.name_for(user, name)
