from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "insurance_admin.accounts"
    label = "accounts"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        # imports here, not at the top: the app registry is ready only now
        from .roles import sync_role_groups

        # Groups and their permissions exist in every installation and follow the matrix in
        # roles.py after every migrate (permissions themselves are created on post_migrate).
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
