import pytest

from insurance_admin.core.encodings import EncodingFallbackCSV, decode_bytes, detect_file_encoding

TEXT = "setl_id,fixmedins_name\nS1,通辽市医院\n"


@pytest.mark.parametrize(("data", "expected"), [
    (TEXT.encode("utf-8"), "utf-8-sig"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gbk"), "gb18030"),
])
def test_utf8_is_tried_strictly_before_gb18030(tmp_path, data, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert detect_file_encoding(str(path)) == expected
    assert decode_bytes(data).lstrip("\ufeff") == TEXT


def test_a_file_that_is_neither_is_refused_unless_the_reader_checks_it(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("gbk") + b"\x81\x20")  # a lead byte without its trail byte
    assert detect_file_encoding(str(path)) is None
    assert detect_file_encoding(str(path), verify_fallback=False) == "gb18030"


def test_import_export_format_decodes_gbk_and_names_its_error():
    assert EncodingFallbackCSV().create_dataset(TEXT.encode("gbk"))["fixmedins_name"] == ["通辽市医院"]

    class Named(EncodingFallbackCSV):
        undecodable_message = "文件编码无法识别"

    with pytest.raises(ValueError, match="文件编码无法识别"):
        Named().create_dataset(TEXT.encode("gbk") + b"\x81\x20")
