"""The window's exact look-up (ID number, psn_no) is one statement; it must find exactly what
the scoped querysets (`for_user`) find, with the same enrollments in the same order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.identity import looks_like_certno
from programs.models import Area, Contract, Enrollment, InsuredPerson
from programs.selectors import _enrollments_prefetch, search_persons
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(horqin_person, kailu_person):
    """A person enrolled in two contracts in two areas, one without any enrollment, and a
    psn_no that is another person's ID number (certno OR psn_no finds both)."""
    both = PersonFactory(name="敖登", area_code="150502")
    EnrollmentFactory(person=both)  # Tongliao 2025, 科尔沁区
    EnrollmentFactory(person=both, contract=Contract.objects.get(code="zhenping-2026"),
                      area=Area.objects.get(code="411324"))
    EnrollmentFactory(person=both, contract=Contract.objects.get(code="taikang-2025"),
                      area=Area.objects.get(code="411627"), status=Enrollment.Status.CANCELLED)
    nowhere = PersonFactory(name="乌云", area_code="150502")
    twin = PersonFactory(name="阿拉坦", area_code="150502", psn_no=horqin_person.certno)
    EnrollmentFactory(person=twin)
    return {"both": both, "nowhere": nowhere, "twin": twin, "horqin": horqin_person, "kailu": kailu_person}


def _orm(user, **filters):
    """What the ORM's scoped queryset and prefetch find (the reference)."""
    from django.db.models import Q

    q = Q()
    for k, v in filters.items():
        q |= Q(**{k: v})
    persons = InsuredPerson.objects.for_user(user).filter(q).prefetch_related(_enrollments_prefetch(user))
    return [(p.pk, [(e.pk, e.contract.code, e.contract.program.name, e.area.code) for e in p.visible_enrollments])
            for p in persons.order_by("name", "certno")]


def _found(user, query):
    return [(row.person.pk, [(e.pk, e.contract.code, e.contract.program.name, e.area.code) for e in row.enrollments])
            for row in search_persons(user, query, 2025).rows]


@pytest.mark.parametrize("who", ["superuser", "caseworker", "caseworker_kailu", "reviewer", "zhenping", "nobody"])
def test_exact_lookup_finds_what_the_scoped_querysets_find(registry, who, request):
    user = {
        "superuser": lambda: UserFactory(username="root", is_superuser=True, is_staff=True),
        "caseworker": lambda: request.getfixturevalue("caseworker"),
        "caseworker_kailu": lambda: request.getfixturevalue("caseworker_kailu"),
        "reviewer": lambda: request.getfixturevalue("reviewer"),
        "zhenping": lambda: UserFactory(username="cw_zp", role="caseworker", area_codes=["411324"]),
        "nobody": lambda: UserFactory(username="cw_none", role="caseworker"),
    }[who]()
    for person in registry.values():
        assert _found(user, person.certno) == _orm(user, certno=person.certno, psn_no=person.certno)
        as_certno = {"certno": person.psn_no} if looks_like_certno(person.psn_no) else {}  # the twin's
        assert _found(user, person.psn_no) == _orm(user, psn_no=person.psn_no, **as_certno)
    horqin = registry["horqin"]
    # The typed ID number is one person's certno and another's psn_no: both, by name.
    assert len(_found(user, horqin.certno)) == {"superuser": 2, "caseworker": 2, "reviewer": 2}.get(who, 0)


def test_exact_expectations_by_role(registry, caseworker):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    both = registry["both"]
    # The caseworker sees only the 科尔沁区 enrollment; the superuser all three, newest first.
    assert [e[1] for e in _found(caseworker, both.certno)[0][1]] == ["tongliao-2025"]
    assert [e[1] for e in _found(root, both.certno)[0][1]] == ["zhenping-2026", "taikang-2025", "tongliao-2025"]
    # A person without enrollments: the superuser finds them, a caseworker does not.
    assert _found(root, registry["nowhere"].certno) == [(registry["nowhere"].pk, [])]
    assert _found(caseworker, registry["nowhere"].certno) == []
    row = search_persons(caseworker, both.certno, 2025).rows[0]
    assert row.year_enrollment.contract.code == "tongliao-2025" and row.year_enrollment.person is row.person


def test_exact_lookup_is_one_statement(registry, caseworker):
    search_persons(caseworker, "150502197005170000", 2025)  # the user's scope is cached on the user
    with CaptureQueriesContext(connection) as queries:
        found = search_persons(caseworker, registry["both"].certno, 2025)
    assert len(found.rows) == 1 and len(queries) == 1
