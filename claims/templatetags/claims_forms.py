from django import template

register = template.Library()


@register.filter
def pick(form, names: str):
    """The bound fields of `form` named in the comma-separated `names` that the form has."""
    return [form[name] for name in names.split(",") if name in form.fields]


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key, key)
