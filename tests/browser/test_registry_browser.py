import pytest

from programs import services
from programs.models import ImportBatch
from tests.browser.conftest import OUTPUT
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_caseworker_uploads_a_list_and_watches_the_progress_without_reloading(seeded, live_server, page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    UserFactory(username="cw_list", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    bad = person_row(2, gend="9")
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([person_row(1, name="包宝山"), bad, person_row(3, admdvs="150523")]))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "cw_list")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/registry/imports/")
    assert page.locator("h1").inner_text() == "参保名单导入"
    page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=effective_date]", "2025-01-01")
    page.click("text=上传并校验")
    page.wait_for_url("**/registry/imports/*/")
    assert "等待中" in page.inner_text("#import-progress")

    batch = ImportBatch.objects.get()
    services.import_batch_validate(batch_id=batch.pk)  # what the worker does meanwhile
    page.locator("[data-field=status_display]", has_text="校验通过，待确认").wait_for(timeout=10_000)
    box = page.inner_text("#import-progress")
    assert "下载拒绝行及原因（CSV）" in box
    assert page.locator("[data-field=rows_rejected]").inner_text() == "2"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "registry-import-validated.png"), full_page=True)
    page.click("text=确认并写入有效行")
    page.wait_for_url("**/registry/imports/*/")
    assert "已确认：正在写入有效行。" in page.inner_text("main")
