"""A finance user uploads a hospital's GBK file in the browser, reads the preview, confirms,
and sees the payable and due date; a bad file shows the Chinese error list. Screenshots go to
test-output/browser/."""

import pytest

from tests.browser.conftest import OUTPUT
from tests.claims.hospital_files import (
    csv_bytes,
    seeded_terms,  # noqa: F401 (fixture)
    tongliao_row,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.usefixtures("seeded_terms")
def test_finance_uploads_confirms_and_sees_the_payable(live_server, page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    UserFactory(username="fin_browser", first_name="财务", role="finance", area_codes=["150500"])
    persons = [EnrollmentFactory(person=PersonFactory(name=n)).person for n in ("包宝山", "王芳", "李娜")]
    rows = [tongliao_row("S1", persons[0]), tongliao_row("S2", persons[1], inscp="70000.00", hifmi="15000.00"),
            tongliao_row("S3", persons[2], inscp="120000.00", hifmi="61000.00")]
    good = tmp_path / "2025-03.csv"
    good.write_bytes(csv_bytes(rows, encoding="gbk"))
    bad_rows = [dict(r) for r in rows]
    bad_rows[1]["hifmi_pay"] = "一万五"
    bad_rows[2]["enddate"] = "2024-12-31"
    bad_rows[2]["begndate"] = "2024-12-20"
    bad = tmp_path / "2025-03-bad.csv"
    bad.write_bytes(csv_bytes(bad_rows))

    _login(page, live_server, "fin_browser")
    page.click("text=医院结算")
    page.click("text=上传医疗机构月度结算文件")
    page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.fill("input[name=month]", "2025-03")
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=上传并校验")
    page.wait_for_selector("#error-list")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "hospital-batch-refused.png"), full_page=True)
    text = page.inner_text("#errors")
    assert "文件被拒绝：共 2 个错误，未保存任何数据。" in text and "“一万五”不是金额。" in text

    page.click("text=上传更正后的文件")
    page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.fill("input[name=month]", "2025-03")
    page.set_input_files("input[name=file]", str(good))
    page.click("text=上传并校验")
    page.wait_for_selector("#confirm-import")
    page.screenshot(path=str(OUTPUT / "hospital-batch-preview.png"), full_page=True)
    assert "通辽市医院" in page.inner_text("h1")
    page.click("#confirm-import")
    page.wait_for_selector("#payable")
    page.screenshot(path=str(OUTPUT / "hospital-batch-done.png"), full_page=True)
    assert page.inner_text("#payable") == "80,800.00"
    assert page.inner_text("#due") == "2025-04-30"


@pytest.mark.usefixtures("seeded_terms")
def test_the_admin_import_shows_row_errors_then_imports(live_server, page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    UserFactory(username="rev_browser", first_name="审核员", role="reviewer", area_codes=["150500"])
    persons = [EnrollmentFactory(person=PersonFactory(name=n)).person for n in ("包宝山", "王芳")]
    rows = [tongliao_row("S1", persons[0]), tongliao_row("S2", persons[1], inscp="70000.00", hifmi="15000.00")]
    bad_rows = [dict(r) for r in rows]
    bad_rows[0]["medfee_sumamt"] = "59000.00"
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(csv_bytes(bad_rows, encoding="gbk"))
    good.write_bytes(csv_bytes(rows, encoding="gbk"))
    _login(page, live_server, "rev_browser")
    # an old Excel file is refused on the form, before anything is read
    xls = tmp_path / "2025-03.xls"
    xls.write_bytes(csv_bytes(rows, encoding="gbk"))
    page.goto(f"{live_server.url}/admin/claims/settlement/import/")
    page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.fill("input[name=month]", "2025-03")
    page.set_input_files("input[name=import_file]", str(xls))
    page.select_option("select[name=format]", index=1)  # chosen after the file: nothing to guess from .xls
    page.click("text=提交")
    page.wait_for_load_state()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "hospital-admin-import-xls.png"), full_page=True)
    assert page.get_by_text("不支持的文件类型：请上传 .csv 或 .xlsx 文件。").is_visible()
    for path in (bad, good):
        page.goto(f"{live_server.url}/admin/claims/settlement/import/")
        page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
        page.fill("input[name=month]", "2025-03")
        page.select_option("select[name=format]", index=1)
        page.set_input_files("input[name=import_file]", str(path))
        page.click("text=提交")
        page.wait_for_load_state()
        page.screenshot(path=str(OUTPUT / f"hospital-admin-import-{path.stem}.png"), full_page=True)
        if path is bad:
            assert "医疗费总额 59000.00 与四项之和 60000.00 相差 1000.00" in page.content()
            assert page.locator("button:has-text('确认导入'), input[value='确认导入']").count() == 0
    page.click("button:has-text('确认导入'), input[value='确认导入']")
    page.wait_for_url(f"{live_server.url}/admin/claims/settlement/")
    page.screenshot(path=str(OUTPUT / "hospital-admin-import-done.png"), full_page=True)
    assert "S1" in page.inner_text("#result_list") and "S2" in page.inner_text("#result_list")
