"""Masking of personal data for roles that do not need it (lists, exports, dashboards). In core:
every layer masks, and the permission names are strings, so nothing here needs a higher app."""

PERM_FULL_IDENTITY = "programs.view_full_identity"


def mask_certno(certno: str) -> str:
    """1505**********1234: four leading and four trailing characters stay readable."""
    if not certno:
        return ""
    if len(certno) <= 8:
        return "*" * len(certno)
    return certno[:4] + "*" * (len(certno) - 8) + certno[-4:]


def mask_name(name: str) -> str:
    """张** / 欧阳**: keep the surname's first character only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """138****8000: the network prefix and the last four digits stay readable."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_account(account: str) -> str:
    """6228****0000: the bank's prefix and the last four digits stay readable."""
    return account[:4] + "****" + account[-4:] if len(account) >= 8 else "****"


def can_see_full_identity(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERM_FULL_IDENTITY))


def can_see_payment_details(user) -> bool:
    """Payee and bank account in full: identity roles, and finance, who transfers the money."""
    return can_see_full_identity(user) or bool(user and user.is_authenticated and user.has_perm("claims.pay_claim"))


def certno_for(user, certno: str) -> str:
    return certno if can_see_full_identity(user) else mask_certno(certno)


def name_for(user, name: str) -> str:
    return name if can_see_full_identity(user) else mask_name(name)


_DIGITS_HIDDEN = str.maketrans("0123456789", "*" * 10)


def mask_birth_date(value: str) -> str:
    """****-**-**: every digit of a birth date hidden, its shape kept."""
    return (value or "").translate(_DIGITS_HIDDEN)
