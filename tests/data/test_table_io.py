import gzip

import numpy as np
import pytest

from gnnkit.data.table_io import original_ids, read_numeric, read_table
from gnnkit.errors import DataError


def write(path, payload):
    path.write_bytes(payload.encode() if isinstance(payload, str) else
                     payload)
    return path


@pytest.mark.parametrize("payload, match", [
    ("", r"e.csv: the file is empty; a table needs a header line"),
    ("id,f,f\na,1,2\n", r"e.csv, line 1, field 'f': column 'f' appears "
                        r"twice in the header"),
    ("id,f,label\na,1,x\nb,2\n", r"e.csv, line 3: the row has 2 cell\(s\) "
                                 r"but the header has 3"),
])
def test_read_table_bad_layout_names_line(tmp_path, payload, match):
    with pytest.raises(DataError, match=match):
        read_table(write(tmp_path / "e.csv", payload))


@pytest.mark.parametrize("name, payload, match", [
    ("e.csv.gz", "source,target\na,b\n", r"not a valid gzip file \(Not a "
                                        r"gzipped file"),
    ("t.csv.gz", gzip.compress(b"source,target\na,b\n")[:-8],
     r"not a valid gzip file \(Compressed file ended"),
    ("u.csv", "id\na\n".encode("utf-16"), r"u.csv, line 1: the file is "
                                          r"UTF-16 .*encoding='utf-16'"),
    ("n.jsonl", "\n  \n", r"n.jsonl: the file has no records"),
])
def test_read_table_unreadable_file(tmp_path, name, payload, match):
    with pytest.raises(DataError, match=match):
        read_table(write(tmp_path / name, payload))


def test_read_table_folder_is_not_a_file(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(DataError, match=r"d.csv: is a folder, not a file"):
        read_table(tmp_path / "d.csv")


def test_read_table_strips_byte_order_mark(tmp_path):
    csv = read_table(write(tmp_path / "n.csv", "\ufeffid,f\na,1\n"))
    jsonl = read_table(write(tmp_path / "n.jsonl", '\ufeff{"id": "a"}\n'))
    assert list(csv.frame.columns) == ["id", "f"]
    assert jsonl.frame["id"].tolist() == ["a"]


def test_read_table_utf16_with_encoding_reads(tmp_path):
    path = write(tmp_path / "u.csv", "id,f\na,1\n".encode("utf-16"))
    assert read_table(path, encoding="utf-16").frame["f"].tolist() == ["1"]


def test_table_column_hints_at_separator(tmp_path):
    table = read_table(write(tmp_path / "e.csv", "source;target\na;b\n"))
    with pytest.raises(DataError, match=r"the columns are \['source;target'"
                       r"\]. The header is separated by semicolons"):
        table.column("source", "source")


@pytest.mark.parametrize("cell, match", [
    ("inf", r"line 3, field 'f': feature value 'inf' is not finite"),
    ("two", r"line 3, field 'f': feature value 'two' is not a number"),
    ("", r"line 3, field 'f': feature value is missing"),
])
def test_table_numbers_must_be_finite(tmp_path, cell, match):
    table = read_table(write(tmp_path / "n.csv", f"id,f\na,1\nb,{cell}\n"))
    with pytest.raises(DataError, match=match):
        table.numbers("f", "feature")


def test_table_numbers_json_null_is_missing(tmp_path):
    table = read_table(write(tmp_path / "n.jsonl",
                             '{"f": 1}\n{"f": NaN}\n'))
    with pytest.raises(DataError, match=r"line 2, field 'f': feature value "
                       r"is missing;"):
        table.numbers("f", "feature")


def test_original_ids_keep_leading_zeros_as_written():
    assert original_ids(["10", "7", "-3"]) == [10, 7, -3]
    assert original_ids(["007", "7"]) == ["007", "7"]
    assert original_ids(["+7", "8"]) == ["+7", "8"]


@pytest.mark.parametrize("text, integer, match", [
    ("1, 2\n\n2, 1\n", True, r"A.txt, line 2, field 'column 1': the line "
                             r"is empty"),
    ("1, 2\n2\n", True, r"line 2, field 'column 2': the line has 1 "
                        r"value\(s\) but other lines have 2"),
    ("1, 99999999999999999999\n", True, r"line 1, .*'99999999999999999999'"
                                        r" in column 2 is too large"),
    ("1\t2\n", True, r"found 1 \(TU files separate values with commas"),
    ("0.5\nnan\n", False, r"line 2, .*value 'nan' in column 1 is not a "
                          r"finite number"),
    ("0.5\ninf\n", False, r"line 2, .*value 'inf' in column 1 is not a "
                          r"finite number"),
])
def test_read_numeric_names_bad_line(tmp_path, text, integer, match):
    path = write(tmp_path / "A.txt", text)
    with pytest.raises(DataError, match=match):
        read_numeric(path, integer=integer, columns=2 if integer else 1)


def test_read_numeric_stray_byte_is_a_bad_value(tmp_path):
    path = write(tmp_path / "L.txt", "1\n1\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"L.txt, line 2, field 'column 1': "
                       "value '1\xe9' in column 1 is not a finite number"):
        read_numeric(path, integer=False, columns=1)


def test_read_numeric_bom_crlf_and_gzip(tmp_path):
    text = "\ufeff1, 2\r\n2, 3\r\n"
    plain = read_numeric(write(tmp_path / "A.txt", text), True, 2)
    zipped = read_numeric(write(tmp_path / "A.txt.gz",
                                gzip.compress(text.encode())), True, 2)
    assert plain.tolist() == [[1, 2], [2, 3]]
    assert np.array_equal(plain, zipped)
