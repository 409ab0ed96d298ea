"""Every route of the URL conf, found by walking `get_resolver()` (admin routes carry their
model from `admin.site._registry`), and how to fill its path parameters with the objects of
one side (the foreign objects, or the user's own). A parameter this module cannot fill makes
the inventory test fail: a new route is never skipped silently."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern


@dataclass
class Route:
    pattern: str  # the full pattern, e.g. "claims/<int:pk>/"
    name: str  # "namespace:name" or the pattern when unnamed
    params: list[str]
    model: type | None = None  # admin routes: the registered model
    regex: bool = False
    converters: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name or self.pattern

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")


#: Routes that are public, or take no area data, with the reason. Anything else is tested.
PUBLIC = {
    "login": "the login page itself",
    "logout": "logging out (POST only)",
    "set_language": "switches the interface language of the session",
    "healthz": "load-balancer health check, no data",
    "admin:login": "the admin's login page",
    "admin:logout": "logging out of the admin",
    "admin:jsi18n": "the admin's JavaScript translation catalogue",
    "admin:password_change": "changing one's own password (no area data)",
    "admin:password_change_done": "confirmation page of the own password change",
}


def _join(prefix: str, pattern) -> tuple[str, bool]:
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        return prefix + text.lstrip("^").rstrip("$"), True
    return prefix + text, False


def _admin_models() -> dict[str, type]:
    return {f"admin/{m._meta.app_label}/{m._meta.model_name}/": m for m in admin.site._registry}


def all_routes() -> list[Route]:
    admin_prefixes = _admin_models()
    out: list[Route] = []

    def walk(resolver, prefix: str, namespace: str, regex: bool, converters: dict):
        for entry in resolver.url_patterns:
            joined, is_regex = _join(prefix, entry.pattern)
            conv = {**converters, **getattr(entry.pattern, "converters", {})}
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, joined, ns, regex or is_regex, conv)
                continue
            assert isinstance(entry, URLPattern)
            name = f"{namespace}{entry.name}" if entry.name else ""
            model = next((m for p, m in admin_prefixes.items() if joined.startswith(p)), None)
            out.append(Route(joined, name, _params(joined, regex or is_regex), model, regex or is_regex, conv))

    walk(get_resolver(), "", "", False, {})
    return out


_ROUTE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REGEX_GROUP = re.compile(r"\((?:\?P<(\w+)>)?([^()]*)\)")


def _params(pattern: str, regex: bool) -> list[str]:
    if regex:
        return [m.group(1) or f"_{i}" for i, m in enumerate(_REGEX_GROUP.finditer(pattern))]
    return [m.group(2) for m in _ROUTE_PARAM.finditer(pattern)]


def build_path(route: Route, values: dict[str, str]) -> str:
    if not route.regex:
        return "/" + _ROUTE_PARAM.sub(lambda m: str(values[m.group(2)]), route.pattern)
    path = route.pattern
    counter = iter(range(100))
    path = _REGEX_GROUP.sub(lambda m: str(values[m.group(1) or f"_{next(counter)}"]), path)
    return "/" + path


class CannotFill(Exception):
    pass


def _model(label):
    return apps.get_model(*label.split("."))


def _movement_targets():
    from finance.views import MOVEMENTS

    return MOVEMENTS


def _setups():
    from finance.views import SETUPS

    return SETUPS


# Which model a non-admin route's `pk` names (by route name prefix).
PK_MODELS = {
    "person_detail": "programs.InsuredPerson",
    "claim_": "claims.Claim",
    "phone_report_": "claims.ClaimReport",
    "hospital_batch_": "claims.HospitalBatch",
    "import_batch_": "programs.ImportBatch",
    "finance:entry_reverse": "finance.LedgerEntry",
    "finance:simulation": "finance.SimulationRun",  # the run page, its progress and exports
    "inbox_": "core.Notification",
    "assessments:record_": "assessments.SupervisionRecord",
    "assessments:assessment_": "assessments.Assessment",
    "complaints:": "complaints.Complaint",
    "reporting:run_": "reporting.ReportRun",
}


def fills(route: Route, pick) -> list[tuple[dict, str]]:
    """[(path parameters, description)] for `route`. `pick(model, n)` returns up to n objects of
    one side. Raises CannotFill for a parameter it does not know."""
    params = route.params
    if not params:
        return [({}, "")]
    if route.is_admin:
        return _admin_fills(route, pick)
    contracts = pick(_model("programs.Contract"), 2)
    if route.key == "finance:movement":
        out = []
        for (target, action), (model, _call) in _movement_targets().items():
            for obj in pick(model, 1):
                out.append(({"target": target, "action": action, "pk": obj.pk}, f"{model.__name__} #{obj.pk}"))
        return out
    if route.key == "finance:contract_action":
        return [({"code": c.code, "what": what}, c.code) for what in _setups() for c in contracts[:1]]
    if "deduction_pk" in params:
        return [({"pk": d.batch_id, "deduction_pk": d.pk}, f"Deduction #{d.pk}") for d in pick(_model("claims.Deduction"), 1)]
    if "person_pk" in params and "contract_code" in params:
        out = []
        for person in pick(_model("programs.InsuredPerson"), 2):
            enrollment = person.enrollments.select_related("contract").first()
            if enrollment is not None:
                out.append(({"person_pk": person.pk, "contract_code": enrollment.contract.code}, f"person #{person.pk}"))
        return out
    values_sets = [{}]
    for name in params:
        conv = route.converters.get(name)
        options = []
        if name in ("code", "contract_code"):
            options = [(c.code, c.code) for c in contracts]
        elif name == "fmt" and conv is not None:
            options = [(v, v) for v in conv.regex.split("|")]
        elif name == "pk":
            label = next((m for prefix, m in PK_MODELS.items() if route.key.startswith(prefix)), None)
            if label is None:
                raise CannotFill(f"route {route.key} ({route.pattern}): no model known for <pk>; add it to PK_MODELS")
            model = _model(label)
            count = 4 if model.__name__ == "Claim" else 1
            options = [(o.pk, f"{model.__name__} #{o.pk}") for o in pick(model, count)]
        else:
            raise CannotFill(f"route {route.key} ({route.pattern}): cannot fill <{name}>")
        values_sets = [{**v, name: o[0], "_d": (v.get("_d", "") + " " + str(o[1])).strip()} for v in values_sets for o in options]
    return [({k: v for k, v in vs.items() if k != "_d"}, vs.get("_d", "")) for vs in values_sets]


def _admin_fills(route: Route, pick) -> list[tuple[dict, str]]:
    params = route.params
    if route.model is None:
        if params == ["app_label"]:
            return [({"app_label": label}, label) for label in ("programs", "claims", "finance", "accounts")]
        if params == ["content_type_id", "object_id"]:
            from django.contrib.contenttypes.models import ContentType

            out = []
            for label in ("programs.InsuredPerson", "claims.Claim", "programs.Contract"):
                model = _model(label)
                for obj in pick(model, 1):
                    out.append(({"content_type_id": ContentType.objects.get_for_model(model).pk, "object_id": obj.pk},
                                f"{label} #{obj.pk}"))
            return out
        if params == ["url"]:
            return [({"url": "programs/insuredperson/nonexistent/"}, "catch-all")]
        raise CannotFill(f"admin route {route.key} ({route.pattern}): cannot fill {params}")
    objects = pick(route.model, 1)
    out = []
    for obj in objects:
        if params in (["object_id"], ["id"]):
            out.append(({params[0]: obj.pk}, f"{route.model.__name__} #{obj.pk}"))
        elif len(params) == 2 and params[0] == "_0":  # simple-history's per-version page
            history = getattr(obj, "history", None)
            if history is None:  # the admin offers the page for a model without history
                out.append(({"_0": obj.pk, "_1": 1}, f"{route.model.__name__} #{obj.pk} (no history)"))
                continue
            version = history.order_by("-history_id").first()
            if version is not None:
                out.append(({"_0": obj.pk, "_1": version.history_id},
                            f"{route.model.__name__} #{obj.pk} version {version.history_id}"))
        else:
            raise CannotFill(f"admin route {route.key} ({route.pattern}): cannot fill {params}")
    return out


def changelist_queries(model, pick) -> list[str]:
    """`?<fk>__id__exact=<id>` for every foreign key of the model, and a search for a foreign
    object's own id."""
    queries = []
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is not None and f.related_model._meta.label_lower != "accounts.user":
            for obj in pick(f.related_model, 1):
                queries.append(f"?{f.name}__id__exact={obj.pk}")
    for m2m in model._meta.many_to_many:
        for obj in pick(m2m.related_model, 1):
            queries.append(f"?{m2m.name}__id__exact={obj.pk}")
    return queries
