"""The admin's small imports (django-import-export) refuse, before reading the file, what the
batch imports refuse: a file above ADMIN_IMPORT_MAX_FILE_BYTES and a type no import reads —
with the same Chinese messages, and nothing previewed or written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import HospitalBatch, Settlement
from programs.models import Contract, Enrollment
from tests.claims.hospital_files import csv_bytes as hospital_csv
from tests.claims.hospital_files import (
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row

pytestmark = pytest.mark.django_db

def _enrollment_post(client, name, content):
    contract = Contract.objects.get(code="tongliao-2025")
    return client.post(reverse("admin:programs_enrollment_import"), {
        "format": "0", "contract": contract.pk, "effective_date": "2025-01-01", "resource": "",
        "import_file": SimpleUploadedFile(name, content)})


def _settlement_post(client, name, content):
    contract = Contract.objects.get(code="tongliao-2025")
    return client.post(reverse("admin:claims_settlement_import"), {
        "format": "0", "contract": contract.pk, "month": "2025-03",
        "import_file": SimpleUploadedFile(name, content)})


def _errors(response):
    return response.context["form"].errors.get("import_file")


def test_the_enrollment_list_import_refuses_a_large_file_and_an_xls(client, admin_user, settings):
    client.force_login(admin_user)
    content = csv_bytes([person_row(1), person_row(2)])
    settings.ADMIN_IMPORT_MAX_FILE_BYTES = len(content) - 1
    response = _enrollment_post(client, "list.csv", content)
    assert response.status_code == 200
    assert _errors(response) == [f"文件大小为 {len(content)} 字节，超过上限 {len(content) - 1} 字节；请拆分为较小的文件后再上传。"]
    assert "result" not in response.context or response.context["result"] is None
    settings.ADMIN_IMPORT_MAX_FILE_BYTES = len(content)
    response = _enrollment_post(client, "list.xls", content)
    assert _errors(response) == ["不支持的文件类型：请上传 .csv 或 .xlsx 文件。"]
    response = _enrollment_post(client, "list.csv", content)  # at the limit: previewed
    assert _errors(response) is None and response.context["result"] is not None
    assert Enrollment.objects.count() == 0


def test_the_hospital_file_import_refuses_a_large_file_and_a_pdf(client, settings):
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    client.force_login(finance)
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    content = hospital_csv([tongliao_row("S1", person)])
    settings.ADMIN_IMPORT_MAX_FILE_BYTES = 100
    response = _settlement_post(client, "2025-03.csv", content)
    assert response.status_code == 200
    assert _errors(response) == [f"文件大小为 {len(content)} 字节，超过上限 100 字节；请拆分为较小的文件后再上传。"]
    settings.ADMIN_IMPORT_MAX_FILE_BYTES = 1 << 20
    response = _settlement_post(client, "2025-03.pdf", content)
    assert _errors(response) == ["不支持的文件类型：请上传 .csv 或 .xlsx 文件。"]
    assert not Settlement.objects.exists() and not HospitalBatch.objects.exists()
