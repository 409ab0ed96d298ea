"""Area scoping for the admin: every changelist, change view, foreign-key choice and
autocomplete goes through the model's `for_user(request.user)` queryset."""

from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin

from programs.masking import can_see_full_identity


def scoped(qs, user):
    return qs.for_user(user) if hasattr(qs, "for_user") else qs


class ScopedFormFieldsMixin:
    """Limit foreign-key and many-to-many choices to what the user may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        qs = kwargs.get("queryset", db_field.remote_field.model._default_manager.all())
        kwargs["queryset"] = scoped(qs, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        qs = kwargs.get("queryset", db_field.remote_field.model._default_manager.all())
        kwargs["queryset"] = scoped(qs, request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdmin(ScopedFormFieldsMixin, SimpleHistoryAdmin, ModelAdmin):
    """Base admin for area-scoped models with an audit history."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def history_view(self, request, object_id, extra_context=None):
        # The history shows every past value in full: only for users who may see identities
        # (others read the masked audit trail in the workbench).
        if getattr(self, "history_needs_full_identity", False) and not can_see_full_identity(request.user):
            raise PermissionDenied
        # get_object() below goes through get_queryset(): out-of-area objects are a 404.
        if self.get_object(request, object_id) is None:
            from django.http import Http404

            raise Http404
        return super().history_view(request, object_id, extra_context)
