"""The registry of a contract's terms models: every model whose rows are part of one
contract's agreement (premium rates, benefit plan, claim and finance terms, supervision terms).

Each app registers its own terms models in its AppConfig.ready, so a lower layer (this one)
never imports a higher one; whoever copies or compares a contract's terms (the renewal of a
contract into its next year) walks `terms_models()`.

`fk` names the model's foreign key to the contract (or, for terms shared by the program's
years such as the document checklist, to the program); `children` names reverse relations
whose rows belong to a terms row and are copied with it (an assessment template's items).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TermsModel:
    model: type
    fk: str = "contract"
    children: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def per_contract(self) -> bool:
        """Whether rows hang off a contract (copied into a renewal), not off the program."""
        from .models import Contract

        return self.model._meta.get_field(self.fk).related_model is Contract


_REGISTRY: dict[str, TermsModel] = {}


def register_terms(model, *, fk: str = "contract", children=()) -> None:
    """Register `model` as part of a contract's terms (idempotent: ready() may run twice)."""
    _REGISTRY[model._meta.label] = TermsModel(model=model, fk=fk, children=tuple(children))


def terms_models() -> list[TermsModel]:
    """The registered terms models, in registration order."""
    return list(_REGISTRY.values())
