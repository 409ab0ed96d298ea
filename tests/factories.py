import datetime as dt

import factory
from django.contrib.auth.models import Group

from insurance_admin.accounts.models import User
from programs.identity import with_check_char
from programs.models import Area, Contract, Enrollment, InsuredPerson


def certno_for(area_code: str, birth: dt.date, seq: int) -> str:
    return with_check_char(f"{area_code}{birth:%Y%m%d}{seq:03d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-12345")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def area_codes(self, create, extracted, **kwargs):
        if extracted:
            self.areas.set(Area.objects.filter(code__in=extracted))
        self.save()


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsuredPerson

    class Params:
        area_code = "150502"
        birth = dt.date(1970, 5, 17)

    certno = factory.LazyAttributeSequence(lambda o, n: certno_for(o.area_code, o.birth, n % 1000))
    name = factory.Iterator(["张伟", "王芳", "李娜", "刘洋", "陈静"])
    birth_date = factory.SelfAttribute("birth")
    sex = factory.LazyAttribute(lambda o: "1" if int(o.certno[16]) % 2 else "2")
    psn_no = factory.Sequence(lambda n: f"1505020000{n:010d}")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    person = factory.SubFactory(PersonFactory)
    contract = factory.LazyFunction(lambda: Contract.objects.get(code="tongliao-2025"))
    area = factory.LazyFunction(lambda: Area.objects.get(code="150502"))
    enrolled_from = factory.LazyAttribute(lambda o: o.contract.period_start)
