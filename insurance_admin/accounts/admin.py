from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from insurance_admin.core.admin_scoping import ScopedFormFieldsMixin

from .models import User
from .roles import ROLE_LABELS
from .scoping import area_scope_ids

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(User)
class UserAdmin(ScopedFormFieldsMixin, SimpleHistoryAdmin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "last_name", "first_name", "is_active", "role_names", "area_names"]
    list_filter = ["is_active", "groups", "areas"]
    filter_horizontal = ["groups", "areas"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        access = ["is_active", "is_staff", "groups", "areas"]
        if request.user.is_superuser:
            access += ["is_superuser", "user_permissions"]
        return [
            (None, {"fields": ["username", "password"]}),
            (_("Personal info"), {"fields": ["last_name", "first_name", "email", "phone"]}),
            (_("Access"), {"fields": access}),
            (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
        ]

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("groups", "areas")
        scope = area_scope_ids(request.user)
        if scope is None:
            return qs
        # An administrator manages the users of their own areas only, and never superusers.
        return qs.filter(is_superuser=False, areas__in=scope).distinct()

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(ROLE_LABELS.get(g.name, g.name) for g in obj.groups.all())

    @admin.display(description=_("areas"))
    def area_names(self, obj):
        return ", ".join(a.name for a in obj.areas.all())
