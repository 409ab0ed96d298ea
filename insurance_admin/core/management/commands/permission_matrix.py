from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from insurance_admin.accounts.roles import ROLE_LABELS, ROLE_PERMISSIONS


def matrix_markdown() -> str:
    """The role × permission table README.md shows (a test keeps the two equal)."""
    codes = sorted({c for perms in ROLE_PERMISSIONS.values() for c in perms})
    names = {
        f"{p.content_type.app_label}.{p.codename}": p.codename
        for p in Permission.objects.select_related("content_type")
    }
    roles = list(ROLE_PERMISSIONS)
    lines = [
        "| permission | " + " | ".join(f"{r} ({ROLE_LABELS[r]})" for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for code in codes:
        marks = " | ".join("✔" if code in ROLE_PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{code}` | {marks} |")
    assert set(codes) <= set(names), "unknown permission in the matrix"
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the role permission matrix as a Markdown table (for README.md)."

    def handle(self, *args, **options):
        self.stdout.write(matrix_markdown())
