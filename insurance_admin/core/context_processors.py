from insurance_admin.core.deadlines import unread_count
from insurance_admin.core.masking import can_see_full_identity


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {
        "nav_can_audit": user.has_perm("core.view_audit_log"),
        "nav_can_admin": user.is_staff,
        "nav_full_identity": can_see_full_identity(user),
        "nav_roles": [g.name for g in user.groups.all()],
        # a callable: the count query runs only where a template shows it (the header)
        "inbox_unread": lambda: unread_count(user),
    }
