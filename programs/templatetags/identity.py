from django import template

from insurance_admin.core import masking

register = template.Library()


@register.filter
def certno_for(certno: str, user) -> str:
    """The ID number in full for roles that need it, masked for everyone else."""
    return masking.certno_for(user, certno)


@register.filter
def name_for(name: str, user) -> str:
    return masking.name_for(user, name)


@register.filter
def payee_for(claim, user) -> str:
    """A claim's payee with bank and account: in full for the roles that pay or need
    identities (`masking.can_see_payment_details`), the name and account masked otherwise."""
    full = masking.can_see_payment_details(user)
    parts = [claim.payee_name if full else masking.mask_name(claim.payee_name)]
    if claim.bank_account:
        parts += [claim.bank_name, claim.bank_account if full else masking.mask_account(claim.bank_account)]
    return " · ".join(part for part in parts if part)
