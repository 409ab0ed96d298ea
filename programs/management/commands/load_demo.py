"""Demo users for every role and a few hundred synthetic insured persons per seed program.

Idempotent: users are reset to the demo password; persons are created only once. Synthetic
ID numbers carry the county's own division code and a valid GB 11643 check digit; names are
drawn from common surnames and given-name characters — no real person's data.
"""

import datetime as dt
import random

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from insurance_admin.accounts.models import User
from programs.identity import parse_certno, with_check_char
from programs.models import Area, Contract, Enrollment, InsuredPerson
from programs.seed import load_seed, load_seed_plans

DEMO_PASSWORD = "demo-2026"
DEMO_REASON = "演示数据（合成，非真实人员）"

# (username, role, area codes, display name)
DEMO_USERS = [
    ("caseworker", "caseworker", ["150502"], "科尔沁区经办员"),
    ("caseworker_kailu", "caseworker", ["150523"], "开鲁县经办员"),
    ("caseworker_taikang", "caseworker", ["411627"], "太康县经办员"),
    ("caseworker_zhenping", "caseworker", ["411324"], "镇平县经办员"),
    ("caseworker_chaoyang", "caseworker", ["110105"], "朝阳区经办员"),
    ("reviewer", "reviewer", ["150500", "411600", "411300", "110000"], "审核员"),
    ("finance", "finance", ["150500", "411600", "411300", "110000"], "财务"),
    ("supervisor", "supervisor", ["150500", "411600", "411300", "110000"], "主管"),
    ("admin", "administrator", ["150500", "411600", "411300", "110000"], "系统管理员"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_NAMES = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建国 建华 志强 玉兰 海燕 俊峰 红梅 "
    "文博 子涵 宇轩 欣怡 浩然 思远 雨萱 佳豪 晓东 国庆 春花 秋菊 德胜 宝山 巴特尔 乌兰 其其格 苏日娜 那日苏 桂芝"
).split()
CATEGORY_DETAILS = ["特困", "孤儿", "低保", "低保残疾", "返贫致贫"]

# contract code -> persons per county
PLAN = {"tongliao-2025": 40, "taikang-2025": 250, "zhenping-2026": 250, "beijing-chaoyang-2026": 250}


class Command(BaseCommand):
    help = "Create demo users (one per role and county) and synthetic insured persons."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, seed: int, **options):
        rng = random.Random(seed)
        with transaction.atomic():
            load_seed(apps)
            load_seed_plans(apps)
            self._users()
            created = self._persons(rng)
            superseded = self._superseded_individual_policies(rng)
        self.stdout.write(self.style.SUCCESS(
            f"demo users ready; {created} insured persons created; {superseded} individual policies superseded"
        ))

    def _superseded_individual_policies(self, rng: random.Random) -> int:
        """Beijing (DOMAIN.md §4.4): three 朝阳区 persons bought an individual policy, then their
        employer's group enrollment arrived — the policy is cancelled and an SMS queued (sent by
        the worker through the console backend; the one without a phone number fails)."""
        from programs import services

        contract = Contract.objects.get(code="beijing-chaoyang-2026")
        area = Area.objects.get(code="110105")
        if Enrollment.objects.filter(contract=contract, source=Enrollment.Source.INDIVIDUAL).exists():
            return 0
        taken = set(InsuredPerson.objects.values_list("certno", flat=True))
        on = contract.period_start + dt.timedelta(days=59)
        for phone in ("13800138001", "13911112222", ""):
            person = self._person(rng, area, contract, taken)
            person = services.person_create(certno=person.certno, name=person.name, psn_no=person.psn_no,
                                            phone=phone, reason=DEMO_REASON)
            common = {"area": area, "reason": DEMO_REASON, "employment": "active"}
            services.enrollment_create(person=person, contract=contract, enrolled_from=contract.period_start,
                                       source=Enrollment.Source.INDIVIDUAL, **common)
            services.enrollment_create(person=person, contract=contract, enrolled_from=on,
                                       source=Enrollment.Source.GROUP, **common)
        return 3

    def _users(self) -> None:
        for username, role, area_codes, display in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name = display
            user.is_staff = True
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            user.areas.set(Area.objects.filter(code__in=area_codes))

    def _persons(self, rng: random.Random) -> int:
        if InsuredPerson.history.filter(history_change_reason=DEMO_REASON).exists():
            return 0
        taken = set(InsuredPerson.objects.values_list("certno", flat=True))
        persons, enrollments = [], []
        for code, per_county in PLAN.items():
            contract = Contract.objects.select_related("program__region").get(code=code)
            region = contract.program.region
            counties = list(region.children.all()) if region.level == Area.Level.POOL else [region]
            for area in counties:
                for i in range(per_county):
                    person = self._person(rng, area, contract, taken)
                    persons.append(person)
                    enrollments.append((person, self._enrollment(rng, person, area, contract, i)))
        bulk_create_with_history(persons, InsuredPerson, batch_size=500, default_change_reason=DEMO_REASON)
        by_certno = dict(InsuredPerson.objects.filter(certno__in=[p.certno for p in persons]).values_list("certno", "pk"))
        objs = []
        for person, enrollment in enrollments:
            enrollment.person_id = by_certno[person.certno]
            objs.append(enrollment)
        bulk_create_with_history(objs, Enrollment, batch_size=500, default_change_reason=DEMO_REASON)
        return len(persons)

    def _person(self, rng, area, contract, taken) -> InsuredPerson:
        employee_program = contract.program.kind == "employee_supplementary"
        while True:
            age = rng.randint(22, 85) if employee_program else rng.randint(1, 90)
            birth = dt.date(contract.year - age, rng.randint(1, 12), rng.randint(1, 28))
            seq = rng.randint(0, 999)
            certno = with_check_char(f"{area.code}{birth:%Y%m%d}{seq:03d}")
            if certno not in taken:
                taken.add(certno)
                break
        birth, sex = parse_certno(certno)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        return InsuredPerson(
            certno=certno,
            name=name,
            sex=sex,
            birth_date=birth,
            psn_no=f"{area.code}{rng.randrange(10**13):014d}",
        )

    def _enrollment(self, rng, person, area, contract, index) -> Enrollment:
        age = contract.year - person.birth_date.year
        special = rng.random() < 0.15
        status = Enrollment.Status.ACTIVE
        enrolled_to = None
        if index % 50 == 7:  # a few cancelled policies: "not enrolled in this year" at the window
            status = Enrollment.Status.CANCELLED
        elif index % 50 == 13:  # a few exits during the year (death, moved away)
            status = Enrollment.Status.TERMINATED
            enrolled_to = contract.period_start + dt.timedelta(days=rng.randint(30, 300))
        return Enrollment(
            contract=contract,
            area=area,
            category="special" if special else "ordinary",
            category_detail=rng.choice(CATEGORY_DETAILS) if special else "",
            employment="retired" if age >= 60 else "active",
            health="preexisting" if rng.random() < 0.2 else "healthy",
            continuous_no_claim_3y=rng.random() < 0.3,
            student=age <= 22 and contract.program.kind == "critical_illness",
            enrolled_from=contract.period_start,
            enrolled_to=enrolled_to,
            status=status,
            source=Enrollment.Source.GROUP,
        )
