import shutil
import subprocess

import pytest

from insurance_admin.core.pdf import render_pdf


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_render_pdf_embeds_chinese_text_that_extracts_back(tmp_path):
    pdf = render_pdf("print/base.html", {})
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "页" in text  # the footer's "Page n / m", translated
