"""The permission matrix: one group per role. README.md shows the same table; a test keeps
them in step. Permissions are "app_label.codename"; a permission that does not exist yet
(its app not migrated) is an error, not silently skipped."""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction

_VIEW_REFERENCE = [
    "programs.view_area",
    "programs.view_program",
    "programs.view_contract",
    "programs.view_party",
    "programs.view_partycontact",
    "programs.view_premiumrate",
    "programs.view_benefitplan",
    "core.view_calendarday",
    "core.view_calendaryear",
    "claims.view_claimterms",
    "claims.view_documentrequirement",
    # member services (健康管理服务) of a contract, as data
    "claims.view_entitlementgroup",
    "claims.view_entitlementkind",
]
# Member services used at the window and claims reported by phone (报案), issue 23 item 5.
_VIEW_MEMBERS = ["claims.view_entitlementuse", "claims.view_claimreport"]
_VIEW_PEOPLE = ["programs.view_insuredperson", "programs.view_enrollment"]
# The finance ledgers in the admin (read-only there; movements go through the finance pages).
_VIEW_FINANCE_ADMIN = [
    f"finance.view_{model}"
    for model in ("financeterms", "installmentrule", "premiumschedule", "premiuminstallment", "guaranteedeposit", "revolvingfund", "prepayment",
                  "penalty", "hospitalpayable", "ledgerentry")
]

# Assessments (issue 21): the templates and results are read by supervisors and finance (whose
# ledger the outcome moves); supervisors of the authority record the daily supervision of
# their county, record warnings, compute and decide assessments; administrators keep the
# templates (items, weights, grades, money rules) as data.
_VIEW_ASSESSMENTS = ["assessments.view_assessmenttemplate", "assessments.view_assessmentitem", "assessments.view_gradeband",
                     "assessments.view_assessment", "assessments.view_supervisionwarning"]
_SUPERVISE = [*_VIEW_ASSESSMENTS, "assessments.view_supervisionrecord", "assessments.add_supervisionrecord",
              "assessments.add_supervisionwarning", "assessments.add_assessment", "assessments.decide_assessment"]

# Enrollment list imports (issue 6): a county caseworker imports their county's rows only.
_IMPORT_LISTS = ["programs.view_importbatch", "programs.import_enrollment_list"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # At the county window: finds people, registers and corrects persons and enrollments.
    "caseworker": [
        *_VIEW_REFERENCE,
        *_VIEW_PEOPLE,
        "programs.add_insuredperson",
        "programs.change_insuredperson",
        "programs.add_enrollment",
        "programs.change_enrollment",
        "programs.view_full_identity",
        *_IMPORT_LISTS,
        "programs.view_headcountsnapshot",
        "claims.run_trial",
        "claims.view_claim",
        "claims.add_claim",
        "claims.change_claim",
        "claims.print_slip",
        # member services and claims reported by phone (报案)
        *_VIEW_MEMBERS,
        "claims.add_entitlementuse",
        "claims.add_claimreport",
        "claims.change_claimreport",
        # complaints received at the window
        "complaints.view_complaint",
        "complaints.add_complaint",
    ],
    # Second pair of eyes on claims: reads people in full, changes nothing here.
    "reviewer": [*_VIEW_REFERENCE, *_VIEW_PEOPLE, "programs.view_full_identity", "claims.run_trial", "claims.view_settlement",
                 "claims.view_claim", "claims.review_claim", "claims.print_slip",
                 # hospital monthly files: import, review differences, deductions and recoveries
                 "claims.view_hospitalbatch", "claims.import_hospitalbatch", "claims.record_deduction", *_VIEW_MEMBERS],
    # Premiums, deposits, payables: needs contracts and headcounts, not identities.
    "finance": [*_VIEW_REFERENCE, *_VIEW_PEOPLE, "programs.change_contract", "claims.view_claim", "claims.pay_claim",
                "claims.print_slip", "programs.view_headcountsnapshot", "programs.add_headcountsnapshot",
                "finance.view_finance", "finance.manage_finance", *_VIEW_FINANCE_ADMIN,
                # hospital monthly files: import them and follow what is payable to hospitals
                "claims.view_hospitalbatch", "claims.import_hospitalbatch", "claims.view_settlement", *_VIEW_ASSESSMENTS,
                # periodic reports: read them, generate a period again (a new version)
                "reporting.view_reportrun", "reporting.regenerate_reportrun", "reporting.view_reportterm",
                # renewal simulations (测算, issue 22)
                "finance.view_simulationrun", "finance.run_simulation",
                # the monthly usage report of member services (the subsidies paid)
                "claims.view_entitlementuse"],
    # Dashboards, deadlines, audit trail: read-only, identities masked.
    "supervisor": [*_VIEW_REFERENCE, *_VIEW_PEOPLE, "core.view_audit_log", "core.view_heartbeat", "core.view_deadline",
                   "claims.view_settlement",
                   "claims.view_claim", "claims.view_settlementslip", "finance.view_finance", "claims.view_hospitalbatch",
                   "programs.view_importbatch", "programs.view_headcountsnapshot", "programs.view_smsnotification", *_SUPERVISE,
                   # complaints: registers those from the authority, assigns, answers and closes them
                   "complaints.view_complaint", "complaints.add_complaint", "complaints.manage_complaint",
                   "complaints.view_complaintterms", "complaints.set_complaint_defaults",
                   # the joint office's roster against the contract's commitments
                   "staffing.view_staffmember", "staffing.view_staffingcommitment",
                   "reporting.view_reportrun", "reporting.view_reportterm", *_VIEW_MEMBERS,
                   "finance.view_simulationrun"],
    # Programs, contracts, rules, areas, users, schedules.
    "administrator": [
        *_VIEW_REFERENCE,
        *_VIEW_PEOPLE,
        *[
            f"programs.{action}_{model}"
            for model in ("area", "program", "contract", "party", "partycontact", "premiumrate", "benefitplan")
            for action in ("add", "change", "delete")
        ],
        *[f"claims.{action}_{model}" for model in ("claimterms", "documentrequirement") for action in ("add", "change")],
        *[f"claims.{action}_{model}" for model in ("entitlementgroup", "entitlementkind")
          for action in ("add", "change", "delete")],
        "finance.view_financeterms",
        "finance.change_financeterms",
        "finance.view_simulationrun",  # renewal simulations (测算, issue 22)
        "finance.run_simulation",
        *[f"finance.{action}_installmentrule" for action in ("view", "add", "change", "delete")],
        "claims.view_hospitalsettlementterms",
        "claims.add_hospitalsettlementterms",
        "claims.change_hospitalsettlementterms",
        *_IMPORT_LISTS,
        "programs.view_headcountsnapshot",
        "programs.add_headcountsnapshot",
        "programs.view_smsnotification",
        "programs.change_smsnotification",  # send failed messages again
        "core.add_calendarday",
        "core.change_calendarday",
        "core.delete_calendarday",
        "core.add_calendaryear",
        "core.change_calendaryear",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "core.view_audit_log",
        "core.view_heartbeat",
        "core.view_deadline",  # every deadline of the areas, read-only (the admin and the calendar)
        "core.view_notification",
        "core.view_taskfailure",  # failed background tasks (system status page, admin)
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        *_VIEW_ASSESSMENTS,
        "assessments.view_supervisionrecord",
        *[f"assessments.{action}_{model}" for model in ("assessmenttemplate", "assessmentitem", "gradeband")
          for action in ("add", "change", "delete")],
        # complaint clocks per contract, the roster and the staffing commitments
        "complaints.view_complaintterms",
        "complaints.change_complaintterms",
        *[f"staffing.{action}_staffmember" for action in ("view", "add", "change", "delete")],
        "staffing.view_staffingcommitment",
        "staffing.change_staffingcommitment",
        "reporting.view_reportrun",
        "reporting.view_reportterm",
        "reporting.add_reportterm",
        "reporting.change_reportterm",
    ],
}

ROLE_LABELS = {
    "caseworker": "经办员",
    "reviewer": "审核员",
    "finance": "财务",
    "supervisor": "主管",
    "administrator": "系统管理员",
}


def role_permission_objects(codes: list[str]):
    wanted = {tuple(code.split(".", 1)) for code in codes}
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={c for _, c in wanted}
        )
    }
    missing = sorted(".".join(k) for k in wanted - found.keys())
    if missing:
        raise LookupError(f"permissions missing for role matrix: {', '.join(missing)}")
    return [found[k] for k in sorted(wanted)]


def sync_role_groups(sender=None, **kwargs) -> None:
    """Create the role groups and set exactly the matrix's permissions (idempotent)."""
    # post_migrate fires once per app, in INSTALLED_APPS order, and each app's permissions
    # are created by its own signal: act on the last one, when all permissions exist. Apps
    # without a models module get no signal, so the last one that has models is the cue.
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not None and sender is not with_models[-1]:
        return
    using = kwargs.get("using", "default")
    with transaction.atomic(using=using):
        for role, codes in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.using(using).get_or_create(name=role)
            group.permissions.set(role_permission_objects(codes))
