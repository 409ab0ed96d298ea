"""Registry of a contract's terms models: every per-contract table an office edits as the
contract's terms (premium rates, benefit plan, claim and finance terms, installment rules...).

Each app registers its own terms models in its AppConfig.ready(), so programs (the layer owning
Contract) never imports a higher layer. The renewal copies every registered model's rows of a
contract to the next year's contract; `children` names the reverse relations (related_name)
whose rows are copied along with each parent row (e.g. an assessment template's items).

`fk` is the field naming the owner: "contract" for per-contract terms; a model owned by the
program (fk="program") is shared by all the program's contracts and needs no copy within it.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class TermsSpec:
    model: type[models.Model]
    fk: str = "contract"
    children: tuple[str, ...] = ()
    label: str = ""  # lazy: the model's verbose_name_plural unless given

    @property
    def per_contract(self) -> bool:
        return self.fk == "contract"


_REGISTRY: dict[str, TermsSpec] = {}


def register_terms(model: type[models.Model], *, fk: str = "contract", children: tuple[str, ...] = (),
                   label: str = "") -> TermsSpec:
    """Register `model` as terms of a contract (idempotent: registering again replaces)."""
    model._meta.get_field(fk)  # fails loudly on a wrong field name
    spec = TermsSpec(model=model, fk=fk, children=tuple(children), label=label or model._meta.verbose_name_plural)
    _REGISTRY[model._meta.label_lower] = spec
    return spec


def terms_models() -> list[TermsSpec]:
    """The registered terms models, in registration order (apps' order in INSTALLED_APPS)."""
    return list(_REGISTRY.values())
