"""Reading counterparty files: CSV and Parquet, column mapping, bad rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import TESTS_DATA, shared_file
from econsec.model.record import Counterparty
from econsec.screening.counterparties import (
    CounterpartyError,
    parse_mapping,
    read_counterparties,
)

DATA = TESTS_DATA / "batch"


def test_csv_with_auto_detected_columns() -> None:
    got = read_counterparties(DATA / "customers.csv")
    assert got.columns == {
        "reference": "Customer ID",
        "name": "Customer Name",
        "schema": "Type",
        "countries": "Country",
        "dates_of_birth": "DOB",
        "identifiers": "LEI",
    }
    assert got.counterparties[0] == Counterparty(
        "C-001",
        "Acme Trading GmbH",
        "Organization",
        ("DE",),
        (),
        ("LEI:529900T8BM49AURSDO55",),
    )
    # Country names become ISO codes; several values split on ';'.
    assert got.counterparties[1].countries == ("DE", "AT")
    assert got.counterparties[1].dates_of_birth == ("1980-04-02",)
    assert got.counterparties[3].schema is None
    assert got.rows == (1, 2, 3, 4)
    assert len(got.sha256) == 64


def test_parquet_reads_the_same(tmp_path: Path) -> None:
    csv_file = read_counterparties(DATA / "customers.csv")
    table = pa.table(
        {
            "Customer ID": ["C-001", "C-002", "C-003", "C-004"],
            "Customer Name": [c.name for c in csv_file.counterparties],
            "Type": ["Organization", "Person", "Person", None],
            "Country": ["Germany", "DE;AT", "China", "US"],
            "DOB": [None, "1980-04-02", "1975", None],
            "LEI": ["LEI:529900T8BM49AURSDO55", None, "P:E12345678", None],
        }
    )
    path = tmp_path / "customers.parquet"
    pq.write_table(table, path)
    got = read_counterparties(path)
    assert got.counterparties == csv_file.counterparties


def test_yente_headers_and_row_numbers_as_references() -> None:
    got = read_counterparties(shared_file("matching/yente_positives_un_untreated.csv"))
    assert got.columns["name"] == "full_name"
    assert got.columns["countries"] == "nationality"
    assert got.columns["dates_of_birth"] == "date_of_birth"
    assert "reference" not in got.columns
    assert [c.reference for c in got.counterparties[:3]] == ["1", "2", "3"]
    assert got.counterparties[0].name == "ABDULHAI SALEK"
    assert got.counterparties[0].countries == ("AF",)


def test_explicit_mapping(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Kunde,Firma,Land\nk1,Siemens AG,DE\n", encoding="utf-8")
    with pytest.raises(CounterpartyError, match=r"odd\.csv.*'name'.*no name column"):
        read_counterparties(path)
    got = read_counterparties(
        path, parse_mapping(["name=Firma", "reference=Kunde", "countries=Land"])
    )
    assert got.counterparties == (Counterparty("k1", "Siemens AG", None, ("DE",)),)
    with pytest.raises(CounterpartyError, match="no column 'Nom'"):
        read_counterparties(path, {"name": "Nom"})
    with pytest.raises(CounterpartyError, match="unknown field 'nme'"):
        parse_mapping(["nme=Firma"])


def test_bad_rows_are_errors_naming_file_row_and_field() -> None:
    path = DATA / "bad_rows.csv"
    with pytest.raises(CounterpartyError) as info:
        read_counterparties(path)
    assert info.value.row == 2
    assert info.value.field == "country"
    assert "bad_rows.csv, row 2, field 'country'" in str(info.value)
    assert "Atlantis" in str(info.value)


def test_skip_bad_screens_without_bad_optional_fields_and_sets_nameless_rows_aside() -> None:
    got = read_counterparties(DATA / "bad_rows.csv", skip_bad=True)
    assert [c.reference for c in got.counterparties] == ["1", "2", "3", "5"]
    by_ref = {c.reference: c for c in got.counterparties}
    assert by_ref["2"].countries == ()  # "Atlantis" left out, the name still screened
    assert by_ref["3"].countries == ("FR",)  # the valid field kept
    assert by_ref["3"].dates_of_birth == ()  # 1984-02-30 left out
    assert [(e.row, e.field, e.screened) for e in got.errors] == [
        (2, "country", True),
        (3, "date_of_birth", True),
        (4, "name", False),
    ]
    assert "1984-02-30" in got.errors[1].message


def test_duplicate_references_are_an_error() -> None:
    with pytest.raises(CounterpartyError, match=r"row 3.*duplicate reference 'A1'.*row 1"):
        read_counterparties(DATA / "duplicate_refs.csv")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CounterpartyError, match="no such file"):
        read_counterparties(tmp_path / "missing.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name\nM\xfcller GmbH\n".encode("latin-1"))
    with pytest.raises(CounterpartyError, match="line 2: not UTF-8"):
        read_counterparties(latin1)
    bogus = tmp_path / "bogus.parquet"
    bogus.write_text("not parquet")
    with pytest.raises(CounterpartyError, match="not a readable Parquet file"):
        read_counterparties(bogus)
    wide = tmp_path / "wide.csv"
    wide.write_text("name\nA,B\n", encoding="utf-8")
    with pytest.raises(CounterpartyError, match="row 1: 2 values for 1 columns"):
        read_counterparties(wide)
