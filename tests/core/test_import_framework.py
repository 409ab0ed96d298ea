"""The one import framework (insurance_admin/core/imports) and its two users, the enrollment
list import (programs/registry) and the hospital monthly file import (claims/imports): the same
refusal of a file too big or of the wrong type, the same encoding rule, formula-safe rejected
rows, progress a fresh request (another process) reads, one worker per batch."""

import datetime as dt
import io
import subprocess
import sys
import threading

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from claims import imports
from claims.imports import batches as hospital_batches
from claims.models import HospitalBatch, HospitalBatchStatusChange
from insurance_admin.core.imports import files, progress, rejected
from insurance_admin.core.imports.batches import hold
from programs import selectors
from programs.models import Contract, ImportBatch
from tests.claims.hospital_files import csv_bytes as hospital_csv
from tests.claims.hospital_files import tongliao_row
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory
from tests.programs.registry_helpers import csv_bytes as list_csv
from tests.programs.registry_helpers import person_row
from tests.programs.registry_helpers import upload as list_upload


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def hospital_upload(user, data: bytes, name="2025-03.csv") -> HospitalBatch:
    return imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                uploaded_file=SimpleUploadedFile(name, data), user=user)


def hospital_refusal(batch: HospitalBatch) -> list[str]:
    return [e["message"] for e in imports.rendered_errors(batch.errors)]


def list_refusal(user, data: bytes, name="list.csv") -> list[str]:
    with pytest.raises(ValidationError) as refused:
        list_upload(user, data, name=name)
    return refused.value.message_dict["file"]


# --- sniffing -------------------------------------------------------------------------------


def test_size_text_names_the_limit_as_users_read_it():
    assert [files.size_text(n) for n in (1 << 30, 512 << 20, 1536 << 10, 2048, 200)] == [
        "1 GB", "512 MB", "1.5 MB", "2 KB", "200 字节"]


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_by_both_imports_with_a_message_naming_the_limit(settings, tmp_path):
    settings.IMPORT_MAX_FILE_BYTES = 200
    root = UserFactory(username="sizeroot", is_superuser=True)
    listed = list_csv([person_row(1), person_row(2), person_row(3)])
    assert len(listed) > 200
    assert list_refusal(root, listed) == [f"文件大小为 {len(listed)} 字节，超过上限 200 字节；请拆分为较小的文件后再上传。"]
    assert not ImportBatch.objects.exists()

    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    finance = UserFactory(username="fin_size", role="finance", area_codes=["150500"])
    data = hospital_csv([tongliao_row("S1", person)])
    batch = hospital_upload(finance, data)
    assert batch.status == HospitalBatch.Status.REFUSED
    assert hospital_refusal(batch) == [f"文件大小为 {len(data)} 字节，超过上限 200 字节；请拆分为较小的文件后再上传。"]
    # at the limit: accepted
    settings.IMPORT_MAX_FILE_BYTES = len(data)
    assert hospital_upload(finance, data).status == HospitalBatch.Status.PENDING


def test_a_gbk_csv_is_sniffed_as_gb18030_and_utf8_with_a_bom_as_utf8(tmp_path):
    gbk = tmp_path / "名单.csv"
    gbk.write_bytes("姓名,地区\n包宝山,科尔沁区\n".encode("gbk"))
    assert files.sniff(str(gbk), "名单.CSV") == files.Sniffed("csv", "gb18030")
    utf8 = tmp_path / "list.txt"
    utf8.write_bytes("\ufeff姓名\n包宝山\n".encode())
    assert files.sniff(str(utf8), "list.txt") == files.Sniffed("csv", "utf-8-sig")
    latin = tmp_path / "bad.csv"
    latin.write_bytes(b"name\n\xff\xfe\xff\n")
    with pytest.raises(files.ImportRefused) as refused:
        files.sniff(str(latin), "bad.csv")
    assert (refused.value.code, str(refused.value)) == (
        "encoding", "文件既不是 UTF-8 也不是 GBK/GB18030 文本；请另存为 UTF-8 CSV 或 XLSX。")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"name\nA\x00B\n")
    assert files.sniff(str(nul), "nul.csv").encoding == "utf-8-sig"  # reported by row, where the import wants it
    with pytest.raises(files.ImportRefused) as refused:
        files.sniff(str(nul), "nul.csv", refuse_nul=True)
    assert refused.value.code == "nul"


@pytest.mark.django_db
def test_a_gbk_file_is_read_by_both_imports():
    root = UserFactory(username="gbkroot", is_superuser=True)
    batch = list_upload(root, list_csv([person_row(1, name="包宝山")], encoding="gbk"))
    assert batch.encoding == "gb18030"
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    finance = UserFactory(username="fin_gbk", role="finance", area_codes=["150500"])
    batch = hospital_upload(finance, hospital_csv([tongliao_row("S1", person)], encoding="gbk"))
    batch = imports.batch_validate(batch.pk)
    assert (batch.status, batch.encoding, batch.fixmedins_name) == ("validated", "gb18030", "通辽市医院")


@pytest.mark.django_db
def test_an_xls_workbook_is_refused_the_same_way_by_both_imports():
    root = UserFactory(username="xlsroot", is_superuser=True)
    finance = UserFactory(username="fin_xls", role="finance", area_codes=["150500"])
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512  # an OLE2 (.xls) header
    message = "不支持的文件类型：请上传 .csv 或 .xlsx 文件。"
    assert list_refusal(root, old_excel, name="名单.xls") == [message]
    assert not ImportBatch.objects.exists()
    batch = hospital_upload(finance, old_excel, name="2025-03.XLS")
    assert (batch.status, hospital_refusal(batch)) == (HospitalBatch.Status.REFUSED, [message])
    assert files.FORMATS == {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


# --- rejected rows ----------------------------------------------------------------------------


def test_formula_cells_in_the_rejected_rows_file_are_neutralised():
    stored = rejected.csv_bytes(["line", "psn_name", "reason"], [
        (2, '=HYPERLINK("http://x","点我")', "+1"), (3, "-2+3", "@SUM(A1)"), (4, "包宝山", "ok"),
    ])
    assert stored.decode("utf-8") == (
        "\ufeffline,psn_name,reason\r\n"
        "2,\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",'+1\r\n"
        "3,'-2+3,'@SUM(A1)\r\n"
        "4,包宝山,ok\r\n"
    )
    # an old stored file with a live formula goes out neutralised, masked for this reader
    old = "\ufeffline,psn_name,reason\r\n5,=1+1,=1+1 is not a name\r\n".encode()
    out = b"".join(rejected.stream(io.BytesIO(old), lambda header, row: rejected.masked_row(
        header, row, {"psn_name": lambda v: v[0] + "*"}, free_text=lambda i, name: name == "reason")))
    assert out.decode("utf-8") == "\ufeffline,psn_name,reason\r\n5,'=*,'=* is not a name\r\n"


# --- progress ---------------------------------------------------------------------------------


def _write_from_another_process(media_root: str, kind: str, batch_id: int, data: dict) -> None:
    """What a worker process does: nothing shared with this one but MEDIA_ROOT."""
    code = (
        "import sys, json\n"
        "from django.conf import settings\n"
        "settings.configure(MEDIA_ROOT=sys.argv[1])\n"
        "from insurance_admin.core.imports import progress\n"
        "progress.progress_write(sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]))\n"
    )
    import json

    subprocess.run([sys.executable, "-c", code, media_root, kind, str(batch_id), json.dumps(data)], check=True,
                   timeout=60, cwd=django_settings.BASE_DIR)


@pytest.mark.django_db
def test_progress_written_by_a_worker_process_is_read_by_a_fresh_request(client, settings):
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    finance = UserFactory(username="fin_prog", role="finance", area_codes=["150500"])
    batch = hospital_upload(finance, hospital_csv([tongliao_row("S1", person)]))
    HospitalBatch.objects.filter(pk=batch.pk).update(status=HospitalBatch.Status.VALIDATING)  # the worker's claim
    _write_from_another_process(settings.MEDIA_ROOT, hospital_batches.PROGRESS_KIND, batch.pk,
                                {"phase": "validating", "done": 10, "total": 30})
    client.force_login(finance)
    got = client.get(reverse("hospital_batch_progress", args=[batch.pk])).json()
    assert (got["phase_label"], got["done"], got["total"], got["percent"]) == ("正在校验", 10, 30, 33)

    root = UserFactory(username="progroot", is_superuser=True)
    listed = list_upload(root, list_csv([person_row(1)]))
    ImportBatch.objects.filter(pk=listed.pk).update(status=ImportBatch.Status.APPLYING, rows_valid=1)
    _write_from_another_process(settings.MEDIA_ROOT, selectors.APPLY_PROGRESS_KIND, listed.pk,
                                {"step": "indexes", "done": 6, "total": 21})
    client.force_login(root)
    got = client.get(reverse("import_batch_progress", args=[listed.pk])).json()
    assert (got["status"], got["phase"]) == ("applying", "正在重建索引和约束（第 7 项，共 21 项）")


@pytest.mark.django_db
def test_the_registry_validation_progress_is_in_the_store_and_the_heartbeat_on_the_row(client, settings):
    from django.utils import timezone

    from programs import services

    root = UserFactory(username="valroot", is_superuser=True)
    listed = list_upload(root, list_csv([person_row(n) for n in range(1, 5)]))
    long_ago = timezone.now() - dt.timedelta(hours=1)
    ImportBatch.objects.filter(pk=listed.pk).update(status=ImportBatch.Status.VALIDATING, phase="reading",
                                                    started_at=long_ago, heartbeat_at=long_ago)
    half = ImportBatch.objects.get(pk=listed.pk).file_size // 2
    services._batch_progress(listed.pk, rows_read=2, rows_valid=2, rows_rejected=0)
    services._batch_progress(listed.pk, bytes_read=half)  # a later word adds to the earlier ones
    row = ImportBatch.objects.get(pk=listed.pk)
    assert row.heartbeat_at > long_ago  # the takeover's clock stays on the row
    assert (row.bytes_read, row.rows_read) == (0, 0)  # the counts so far are not written there
    assert progress.progress_read(selectors.VALIDATE_PROGRESS_KIND, listed.pk) == {
        "rows_read": 2, "rows_valid": 2, "rows_rejected": 0, "bytes_read": half}
    client.force_login(root)
    url = reverse("import_batch_progress", args=[listed.pk])
    got = client.get(url).json()
    assert (got["status"], got["phase"], got["rows_read"], got["bytes_read"], got["percent"]) == (
        "validating", "正在读取并校验各行", 2, half, 45)
    # written by a worker process, read by a fresh request
    _write_from_another_process(settings.MEDIA_ROOT, selectors.VALIDATE_PROGRESS_KIND, listed.pk,
                                {"phase": "checking", "rows_read": 4, "rows_valid": 3, "rows_rejected": 1,
                                 "bytes_read": half * 2})
    got = client.get(url).json()
    assert (got["phase"], got["rows_read"], got["rows_valid"], got["rows_rejected"], got["percent"]) == (
        "正在检查重复行和人员编号", 4, 3, 1, 95)


def test_an_unwritable_progress_store_never_stops_an_import(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker)  # a file where the directory should be
    progress.progress_write("hospital", 1, {"phase": "validating"})
    assert progress.progress_read("hospital", 1) == {}


# --- one worker per batch ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_claim_of_a_batch_gets_nothing():
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    finance = UserFactory(username="fin_claim", role="finance", area_codes=["150500"])
    batch = hospital_upload(finance, hospital_csv([tongliao_row("S1", person)]))
    machine = hospital_batches.HOSPITAL_BATCH_STATES
    assert machine.claim(batch.pk, ["pending"], "validating") is not None
    assert machine.claim(batch.pk, ["pending"], "validating") is None
    assert list(HospitalBatchStatusChange.objects.filter(batch=batch).values_list("to_status", flat=True)) == [
        "pending", "validating"]
    with transaction.atomic():
        assert hold(HospitalBatch, batch.pk, "pending") is None  # moved on
        assert hold(HospitalBatch, batch.pk, "validating").pk == batch.pk


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_one_batch_at_once_one_wins(seeded):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    finance = UserFactory(username="fin_race", role="finance", area_codes=["150500"])
    batch = hospital_upload(finance, hospital_csv([tongliao_row("S1", person)]))
    machine = hospital_batches.HOSPITAL_BATCH_STATES
    first_holds, second_done = threading.Event(), threading.Event()
    results = {}

    def first():
        def prepare(obj):  # the first worker holds the row while the second one tries
            first_holds.set()
            second_done.wait(30)
            return []
        try:
            results["first"] = machine.claim(batch.pk, ["pending"], "validating", prepare=prepare)
        finally:
            connection.close()

    def second():
        first_holds.wait(30)
        try:
            results["second"] = machine.claim(batch.pk, ["pending"], "validating")
            results["second_while_held"] = "first" not in results  # skipped, not waited for the lock
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["first"] is not None and results["second"] is None and results["second_while_held"]
    assert HospitalBatch.objects.get(pk=batch.pk).status == "validating"
    assert HospitalBatchStatusChange.objects.filter(batch=batch, to_status="validating").count() == 1
