from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from insurance_admin.core.admin_scoping import ScopedAdmin

from .models import User
from .roles import ROLE_LABELS

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


class StaffCreationForm(UserCreationForm):
    """Username, password, role and areas in one step: a user saved without areas would fall
    outside the creating administrator's scope and could not be opened again."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "groups", "areas"]


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    """Users whose areas all lie within the administrator's own scope (User.objects.for_user):
    their list, change, password and history pages; everyone else is a 404."""

    # A revert restores every field of the old version, also those the administrator's form does
    # not show (is_superuser): users change through their change page only.
    history_read_only = True
    form = UserChangeForm
    add_form = StaffCreationForm
    change_password_form = AdminPasswordChangeForm
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        (_("Access"), {"fields": ["groups", "areas"]}),
    ]
    list_display = ["username", "last_name", "first_name", "is_active", "role_names", "area_names"]
    list_filter = ["is_active", "groups", "areas"]
    filter_horizontal = ["groups", "areas"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        access = ["is_active", "is_staff", "groups", "areas"]
        if request.user.is_superuser:
            access += ["is_superuser", "user_permissions"]
        # a past version shows no password (not even its hash): it is not audited, and reads as text
        login = ["username"] if getattr(request, "_history_read_only", False) else ["username", "password"]
        return [
            (None, {"fields": login}),
            (_("Personal info"), {"fields": ["last_name", "first_name", "email", "phone"]}),
            (_("Access"), {"fields": access}),
            (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "areas")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "areas" and not request.user.is_superuser:
            kwargs["required"] = True  # an unbound user would be out of every administrator's reach
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.label_from_instance = lambda group: str(ROLE_LABELS.get(group.name, group.name))
        return field

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(ROLE_LABELS.get(g.name, g.name) for g in obj.groups.all())

    @admin.display(description=_("areas"))
    def area_names(self, obj):
        return ", ".join(a.name for a in obj.areas.all())
