"""Area scoping for the admin: every changelist, change view, history page, foreign-key choice,
filter sidebar and autocomplete goes through the model's `for_user(request.user)` queryset.

Scoping fails closed: a model reached by the admin must declare its scope rule, either a
`for_user(user)` queryset method or an entry in GLOBAL_MODELS (reference data every member of
staff may read). A model with neither is an error at startup (system check core.E017) and at
run time (ImproperlyConfigured), never "every row".
"""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, get_fields_from_path
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin

from insurance_admin.core.masking import can_see_full_identity

#: Reference data visible to all staff, with no area of its own. Everything else scopes itself
#: with a `for_user(user)` queryset method.
GLOBAL_MODELS = frozenset(
    {
        "auth.group",  # the five roles
        "auth.permission",  # the permission matrix (roles.py)
        "contenttypes.contenttype",
        "core.calendarday",  # the State Council's holiday calendar
        "core.calendaryear",
        # Celery beat schedules: system-wide, edited by administrators
        "django_celery_beat.periodictask",
        "django_celery_beat.crontabschedule",
        "django_celery_beat.intervalschedule",
        "django_celery_beat.solarschedule",
        "django_celery_beat.clockedschedule",
        # login lock-outs (username + IP), read by administrators
        "axes.accessattempt",
        "axes.accesslog",
        "axes.accessfailurelog",
    }
)


def scope_rule(model) -> str | None:
    """'for_user', 'global', or None when the model declares no rule."""
    if hasattr(model._default_manager.all(), "for_user"):
        return "for_user"
    if model._meta.label_lower in GLOBAL_MODELS:
        return "global"
    return None


def scoped(qs, user):
    rule = scope_rule(qs.model)
    if rule == "for_user":
        return qs.for_user(user)
    if rule == "global":
        return qs
    raise ImproperlyConfigured(
        f"{qs.model._meta.label} has no scope rule: give its queryset a for_user(user) method, or add it to "
        "GLOBAL_MODELS in insurance_admin/core/admin_scoping.py if every member of staff may read all of it."
    )


def _reached_models(model_admin):
    """The models an admin shows: its own, its inlines', and those of their relations (foreign-key
    and many-to-many choices, filter sidebars, autocomplete)."""
    models = [model_admin.model, *(inline.model for inline in model_admin.inlines)]
    for model in list(models):
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is not None and (field.many_to_one or
                                                                                              field.one_to_one or
                                                                                              field.many_to_many):
                models.append(field.related_model)
    return models


def scope_rule_errors(site=None) -> list[checks.Error]:
    site = site or admin.site
    errors, seen = [], set()
    for model_admin in site._registry.values():
        for model in _reached_models(model_admin):
            if model in seen or scope_rule(model) is not None:
                continue
            seen.add(model)
            errors.append(
                checks.Error(
                    f"{model._meta.label} is shown in the admin ({type(model_admin).__name__}) but declares no scope rule.",
                    hint="Give its queryset a for_user(user) method, or list it in GLOBAL_MODELS "
                    "(insurance_admin/core/admin_scoping.py) if it is reference data for all staff.",
                    obj=model,
                    id="core.E017",
                )
            )
    return errors


@checks.register(checks.Tags.admin, checks.Tags.security)
def check_scope_rules(app_configs=None, **kwargs):
    return scope_rule_errors()


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related filter whose choices are the related objects the user may see."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model if field.remote_field else field.related_model
        qs = scoped(related._default_manager.all(), request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        attname = field.remote_field.get_related_field().attname if hasattr(field.remote_field, "get_related_field") else "pk"
        return [(getattr(obj, attname), str(obj)) for obj in qs]


class ScopedRelatedOnlyFieldListFilter(admin.RelatedOnlyFieldListFilter):
    """Only the related objects that occur in the user's rows, and that the user may see."""

    def field_choices(self, field, request, model_admin):
        pk_qs = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        related = field.remote_field.model if field.remote_field else field.related_model
        qs = scoped(related._default_manager.filter(pk__in=pk_qs), request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


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


def _has_simple_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


class ScopedAdmin(ScopedFormFieldsMixin, SimpleHistoryAdmin, ModelAdmin):
    """THE base admin: rows, choices and filter sidebars through `for_user`, and an audit history
    that is scoped, masked and changes nothing without the change permission.

    `history_needs_full_identity`: the history shows every past value in full, so only users who
    may see identities read it (others read the masked audit trail in the workbench).
    `history_read_only`: the object's state changes only through services (ledgers, workflow,
    imports); its past versions are shown, never "reverted".
    """

    history_needs_full_identity = False
    history_read_only = False

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if not _has_simple_history(model):
            # Django's own history (the admin log) for models without an audit table.
            self.object_history_template = None

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def get_urls(self):
        urls = super().get_urls()
        if _has_simple_history(self.model):
            return urls
        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_simple_history"
        return [u for u in urls if getattr(u, "name", None) != name]

    def get_list_filter(self, request):
        """Related filters take their choices from the scoped queryset of the related model."""
        result = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                field = get_fields_from_path(self.model, item)[-1]
                if field.is_relation:
                    item = (item, ScopedRelatedFieldListFilter)
            elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], type):
                if issubclass(item[1], admin.RelatedOnlyFieldListFilter) and \
                        not issubclass(item[1], ScopedRelatedOnlyFieldListFilter):
                    item = (item[0], ScopedRelatedOnlyFieldListFilter)
                elif item[1] is admin.RelatedFieldListFilter:
                    item = (item[0], ScopedRelatedFieldListFilter)
            result.append(item)
        return result

    # --- history -----------------------------------------------------------------------------

    def _history_object(self, request, object_id):
        """The object whose history is asked for: out of area (or gone) is a 404, as on the
        change page; a history that needs full identities is a 403 for users without them."""
        if self.history_needs_full_identity and not can_see_full_identity(request.user):
            raise PermissionDenied
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        obj = self._history_object(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if not _has_simple_history(self.model):
            return super(SimpleHistoryAdmin, self).history_view(request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return self.history_read_only or not self.has_change_permission(request, obj) or \
            super().revert_disabled(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._history_object(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        read_only = self.revert_disabled(request, obj)
        if read_only and request.method not in ("GET", "HEAD"):
            raise PermissionDenied  # revert needs the change permission, and never on service-only objects
        if read_only:
            request._history_read_only = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if getattr(request, "_history_read_only", False) and not getattr(request, "_listing_fields", False):
            # a past version that cannot be reverted reads as the change page without the change
            # permission: every field as text, no inputs
            request._listing_fields = True
            try:
                shown = flatten_fieldsets(self.get_fieldsets(request, obj))
            finally:
                request._listing_fields = False
            readonly += [f for f in shown if f not in readonly]
        return readonly


class ReadOnlyScopedAdmin(ScopedAdmin):
    """For objects that change only through services: listed, shown and audited, never added,
    changed, deleted or reverted here."""

    history_read_only = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
