"""Area scoping: which areas a user may see. The single source of truth behind every
`for_user(user)` queryset method; computed once per user object (i.e. once per request)."""

from django.apps import apps


def _all_areas() -> list[tuple[int, int | None]]:
    return list(apps.get_model("programs", "Area").objects.values_list("pk", "parent_id"))


def area_scope_ids(user) -> frozenset[int] | None:
    """Areas whose people and records the user sees: bound areas and their descendants.

    None means unrestricted (superusers). Anonymous or unbound users see nothing.
    """
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, "_area_scope_cache", None)
    if cached is not None:
        return cached
    bound = set(user.areas.values_list("pk", flat=True))
    scope = set(bound)
    if bound:
        children: dict[int | None, list[int]] = {}
        for pk, parent in _all_areas():
            children.setdefault(parent, []).append(pk)
        stack = list(bound)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in scope:
                    scope.add(child)
                    stack.append(child)
    user._area_scope_cache = frozenset(scope)
    return user._area_scope_cache


def region_scope_ids(user) -> frozenset[int] | None:
    """Areas a program may be attached to and still concern the user: the scope plus the
    scope's ancestors (a 科尔沁区 caseworker works under the 通辽市 program)."""
    scope = area_scope_ids(user)
    if scope is None or not scope:
        return scope
    parents = dict(_all_areas())
    result = set(scope)
    for pk in scope:
        parent = parents.get(pk)
        while parent is not None and parent not in result:
            result.add(parent)
            parent = parents.get(parent)
    return frozenset(result)


def forget_scope(user) -> None:
    """Drop the cached scope after the user's areas change."""
    if hasattr(user, "_area_scope_cache"):
        del user._area_scope_cache
