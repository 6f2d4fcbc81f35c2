"""Broken list files: every LoadError names the file, the line or record, and the field.

Each case starts from a small, valid snippet in the publisher's format (checked
to parse), then breaks one thing: a malformed row, a cut-off file, Latin-1 bytes
in a UTF-8 file, an unknown or missing column, a value of the wrong kind.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from econsec.lists import LoadError, csl, dpl, load, ofac, resolve, senzing, un
from econsec.lists._common import ParsedList
from econsec.store import Workspace

Parser = Callable[[Path], ParsedList]


def _fails(parse: Parser, path: Path, record: str | None, field: str | None) -> LoadError:
    with pytest.raises(LoadError) as caught:
        parse(path)
    err = caught.value
    assert (err.file, err.record, err.field) == (str(path), record, field), str(err)
    # The message itself says all three, for a person reading a log.
    where = str(path) + (f", {record}" if record else "") + (f", field {field!r}" if field else "")
    assert str(err).startswith(where + ": "), str(err)
    return err


# -- CSL ---------------------------------------------------------------------

_CSL_ROWS = [
    {
        "_id": "52291",
        "source": "Specially Designated Nationals (SDN) - Treasury Department",
        "entity_number": "52291",
        "type": "Individual",
        "programs": "NPWMD",
        "name": "RIM, Ryong Nam",
        "addresses": "Shenyang, CN; Pyongyang, KP",
        "dates_of_birth": "1978-12-05",
        "nationalities": "KP",
        "ids": "Passport, 836238033, KP; Gender, Male",
    },
    {
        "_id": "66f6ab3f26234b75a9093fce79ef0ce0",
        "source": "Military End User (MEU) List - Bureau of Industry and Security",
        "name": "Academy of Aerospace Solid Propulsion Technology (AASPT)",
        "addresses": "Tian Wang te Zi #1, Baqiao District, Xian, China, CN",
        "federal_register_notice": "85 FR 83799",
        "start_date": "2020-12-23",
        "license_requirement": "For any item subject to the EAR listed in supplement no. 2.",
    },
]


def _csl_text(rows: list[dict[str, str]] = _CSL_ROWS, header: tuple[str, ...] = ()) -> str:
    columns = header or csl.LAYOUT_CURRENT
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row.get(c, "") for c in columns)
    return out.getvalue()


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_csl_snippet_is_valid(tmp_path: Path) -> None:
    parties = csl.parse(_write(tmp_path, "csl.csv", _csl_text())).parties
    assert [p.name for p in parties] == [r["name"] for r in _CSL_ROWS]


def test_csl_row_missing_a_field(tmp_path: Path) -> None:
    lines = _csl_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(',""\n', "\n")  # the MEU row loses its last field
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", "".join(lines)), "line 3", "ids")
    assert "expected 29 fields, found 28" in err.message


def test_csl_row_with_an_extra_field(tmp_path: Path) -> None:
    lines = _csl_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("\n", ',"surplus"\n')
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", "".join(lines)), "line 2", "ids")
    assert "expected 29 fields, found 30" in err.message


def test_csl_stray_quote(tmp_path: Path) -> None:
    # The closing quote of the name on line 2 is lost: its value would run
    # into the next fields, so the row is refused, not read shifted.
    text = _csl_text().replace('"RIM, Ryong Nam"', '"RIM, Ryong Nam')
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", text), "line 2", "name")
    assert "quoted value closed" in err.message


def test_csl_unclosed_quote_runs_to_the_end(tmp_path: Path) -> None:
    # Quotes only where needed, as in the 2019 files.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csl.LAYOUT_CURRENT)
    for row in _CSL_ROWS:
        writer.writerow(row.get(c, "") for c in csl.LAYOUT_CURRENT)
    text = out.getvalue().replace(",85 FR 83799,", ',"85 FR 83799,')
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", text), "line 3", "federal_register_notice")
    assert "unexpected end of data" in err.message


def test_csl_quote_running_over_lines(tmp_path: Path) -> None:
    # The quote opened in the source of line 2 closes on line 3: one short row.
    lines = _csl_text().splitlines(keepends=True)
    text = lines[0] + '"52291","SDN - Treasury\nRIM","Individual"\n' + lines[2]
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", text), "line 2", "source")
    assert "unbalanced quote: the field runs on over 2 lines" in err.message
    assert "expected 29 fields, found 3" in err.message


def test_csl_latin1_bytes(tmp_path: Path) -> None:
    data = _csl_text().encode("utf-8").replace(b"Baqiao", "Baqiào".encode("latin-1"))
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", data), "line 3", "addresses")
    assert "not valid utf-8: byte 0xe0" in err.message


def test_csl_latin1_bytes_in_the_header(tmp_path: Path) -> None:
    data = _csl_text().encode("utf-8").replace(b'"remarks"', '"remarqués"'.encode("latin-1"))
    # The column is named as far as it can be decoded.
    _fails(csl.parse, _write(tmp_path, "csl.csv", data), "line 1", "remarqu\ufffds")


def test_csl_unknown_column(tmp_path: Path) -> None:
    header = tuple("fax" if c == "call_sign" else c for c in csl.LAYOUT_CURRENT)
    err = _fails(csl.parse, _write(tmp_path, "csl.csv", _csl_text(header=header)), "line 1", "fax")
    assert "unknown column" in err.message


def test_csl_missing_column(tmp_path: Path) -> None:
    header = tuple(c for c in csl.LAYOUT_CURRENT if c != "remarks")
    path = _write(tmp_path, "csl.csv", _csl_text(header=header))
    assert "missing column" in _fails(csl.parse, path, "line 1", "remarks").message


def test_csl_columns_out_of_order(tmp_path: Path) -> None:
    header = list(csl.LAYOUT_CURRENT)
    header[3], header[5] = header[5], header[3]  # name before type
    path = _write(tmp_path, "csl.csv", _csl_text(header=tuple(header)))
    err = _fails(csl.parse, path, "line 1", "name")
    assert "position 4" in err.message
    assert "'type'" in err.message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("type", "Ship", "unknown entry type 'Ship'"),
        ("dates_of_birth", "5 Dec 1978", "not an ISO date: '5 Dec 1978'"),
        ("nationalities", "Korea, North", "not an ISO 3166 alpha-2 code: 'Korea, North'"),
        ("citizenships", "XX", "not an ISO 3166 alpha-2 code: 'XX'"),
        ("name", "  ", "empty name"),
        ("source", "", "every CSL row names its list"),
    ],
)
def test_csl_bad_value(tmp_path: Path, field: str, value: str, message: str) -> None:
    rows = [_CSL_ROWS[0], {**_CSL_ROWS[1]}]
    rows[1][field] = value
    path = _write(tmp_path, "csl.csv", _csl_text(rows))
    assert message in _fails(csl.parse, path, "line 3", field).message


def test_csl_empty_file(tmp_path: Path) -> None:
    _fails(csl.parse, _write(tmp_path, "csl.csv", ""), "line 1", None)


# -- OFAC legacy CSV -----------------------------------------------------------

_SDN = (
    '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"a.k.a. 'BNC'.\"\r\n"
    "\x1a"
)
_ADD = (
    '36,25,-0- ,"Havana","Cuba",-0- \r\n'
    '306,199,"Zweierstrasse 35","Zurich CH-8022","Switzerland",-0- \r\n'
    "\x1a"
)
_ALT = '36,12,"aka","AERO-CARIBBEAN",-0- \r\n306,220,"aka","NATIONAL BANK OF CUBA",-0- \r\n\x1a'
_COMMENTS = "\x1a"


def _sdn_set(tmp_path: Path, **files: str | bytes) -> Path:
    folder = tmp_path / "ofac_sdn_2026-01"
    folder.mkdir()
    texts: dict[str, str | bytes] = {
        "sdn.csv": _SDN,
        "add.csv": _ADD,
        "alt.csv": _ALT,
        "sdn_comments.csv": _COMMENTS,
    }
    texts.update({name.replace("_csv", ".csv"): text for name, text in files.items()})
    for name, text in texts.items():
        _write(folder, name, text)
    return folder


def test_ofac_snippet_is_valid(tmp_path: Path) -> None:
    parties = ofac.parse(_sdn_set(tmp_path)).parties
    assert [(p.name, p.countries) for p in parties] == [
        ("AEROCARIBBEAN AIRLINES", ("CU",)),
        ("BANCO NACIONAL DE CUBA", ("CH",)),
    ]


def test_ofac_row_missing_a_field(tmp_path: Path) -> None:
    sdn = _SDN.replace(",-0- \r\n306", "\r\n306")  # line 1 loses its remarks
    folder = _sdn_set(tmp_path, sdn_csv=sdn)
    with pytest.raises(LoadError) as caught:
        ofac.parse(folder)
    err = caught.value
    assert (err.file, err.record, err.field) == (str(folder / "sdn.csv"), "line 1", "Remarks")
    assert str(err) == (
        f"{folder / 'sdn.csv'}, line 1, field 'Remarks': missing (expected 12 fields, found 11)"
    )


def test_ofac_address_row_with_latin1_bytes(tmp_path: Path) -> None:
    add = _ADD.encode("utf-8").replace(b"Zurich", "Zürich".encode("latin-1"))
    folder = _sdn_set(tmp_path, add_csv=add)
    with pytest.raises(LoadError) as caught:
        ofac.parse(folder)
    err = caught.value
    assert (err.file, err.record, err.field) == (
        str(folder / "add.csv"),
        "line 2",
        "City/State/Province/Postal Code",
    )
    assert "not valid utf-8: byte 0xfc at column 30" in err.message


def test_ofac_quote_not_doubled(tmp_path: Path) -> None:
    folder = _sdn_set(tmp_path, alt_csv=_ALT.replace('"AERO-CARIBBEAN"', '"AERO "CARIBBEAN"'))
    with pytest.raises(LoadError) as caught:
        ofac.parse(folder)
    err = caught.value
    assert (err.file, err.record, err.field) == (str(folder / "alt.csv"), "line 1", "alt_name")
    assert "must be doubled" in err.message


def test_ofac_alias_of_an_unknown_entry(tmp_path: Path) -> None:
    folder = _sdn_set(tmp_path, alt_csv=_ALT.replace("306,220", "307,220"))
    with pytest.raises(LoadError) as caught:
        ofac.parse(folder)
    err = caught.value
    assert (err.file, err.record, err.field) == (str(folder / "alt.csv"), "line 2", "ent_num")
    assert "entry 307 is not in the main file" in err.message


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("306,", "3O6,", "ent_num", "not an entry number: '3O6'"),
        ('-0- ,"CUBA"', '"ship","CUBA"', "SDN_Type", "unknown entry type 'ship'"),
        ('"AEROCARIBBEAN AIRLINES"', '""', "SDN_Name", "empty name"),
    ],
)
def test_ofac_bad_value(tmp_path: Path, old: str, new: str, field: str, message: str) -> None:
    folder = _sdn_set(tmp_path, sdn_csv=_SDN.replace(old, new, 1))
    with pytest.raises(LoadError) as caught:
        ofac.parse(folder)
    err = caught.value
    assert err.file == str(folder / "sdn.csv")
    assert err.record in ("line 1", "line 2")
    assert err.field == field
    assert message in err.message


def test_ofac_folder_without_a_main_file(tmp_path: Path) -> None:
    folder = tmp_path / "ofac_sdn_2026-01"
    folder.mkdir()
    _write(folder, "add.csv", _ADD)
    with pytest.raises(LoadError, match=r"expected sdn\.csv or cons_prim\.csv") as caught:
        ofac.parse(folder)
    assert caught.value.file == str(folder)


# -- UN XML --------------------------------------------------------------------

_UN = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>6907993</DATAID>
      <FIRST_NAME>ERIC</FIRST_NAME>
      <SECOND_NAME>BADEGE</SECOND_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
      <REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER>
      <LISTED_ON>2012-12-31</LISTED_ON>
      <NATIONALITY>
        <VALUE>Democratic Republic of the Congo</VALUE>
      </NATIONALITY>
      <INDIVIDUAL_ALIAS>
        <QUALITY>Good</QUALITY>
        <ALIAS_NAME>ERIC BADEGE</ALIAS_NAME>
      </INDIVIDUAL_ALIAS>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>113458</DATAID>
      <FIRST_NAME>AL-QAIDA</FIRST_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDe.004</REFERENCE_NUMBER>
      <LISTED_ON>2001-10-06</LISTED_ON>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""


def test_un_snippet_is_valid(tmp_path: Path) -> None:
    parsed = un.parse(_write(tmp_path, "un.xml", _UN))
    assert [p.entity_id for p in parsed.parties] == ["un_sc:CDi.001", "un_sc:QDe.004"]
    assert parsed.published == "2026-02-27"


def test_un_truncated_file(tmp_path: Path) -> None:
    cut = _UN[: _UN.index("Congo</VALUE>")]  # the download stops inside line 12
    err = _fails(
        un.parse,
        _write(tmp_path, "un.xml", cut),
        "line 12 (INDIVIDUAL starting on line 4)",
        "NATIONALITY/VALUE",
    )
    assert "invalid XML: Premature end of data" in err.message


def test_un_latin1_bytes(tmp_path: Path) -> None:
    data = _UN.encode("utf-8").replace(b"BADEGE", "BADÈGE".encode("latin-1"))
    err = _fails(
        un.parse,
        _write(tmp_path, "un.xml", data),
        "line 7 (INDIVIDUAL starting on line 4)",
        "SECOND_NAME",
    )
    assert "declared encoding" in err.message


def test_un_mismatched_tag(tmp_path: Path) -> None:
    text = _UN.replace("</ALIAS_NAME>", "</ALIAS>")
    err = _fails(
        un.parse,
        _write(tmp_path, "un.xml", text),
        "line 16 (INDIVIDUAL starting on line 4)",
        "INDIVIDUAL_ALIAS/ALIAS_NAME",
    )
    assert "mismatch" in err.message


@pytest.mark.parametrize(
    ("old", "new", "record", "field", "message"),
    [
        (
            "<REFERENCE_NUMBER>QDe.004</REFERENCE_NUMBER>",
            "",
            "line 21 (ENTITY 113458)",
            "REFERENCE_NUMBER",
            "missing",
        ),
        (
            "<LISTED_ON>2012-12-31</LISTED_ON>",
            "<LISTED_ON>31/12/2012</LISTED_ON>",
            "line 4 (INDIVIDUAL 6907993)",
            "LISTED_ON",
            "not an ISO date: '31/12/2012'",
        ),
        (
            "<FIRST_NAME>ERIC</FIRST_NAME>\n      <SECOND_NAME>BADEGE</SECOND_NAME>",
            "<FIRST_NAME/>",
            "line 4 (INDIVIDUAL 6907993)",
            "FIRST_NAME",
            "empty name",
        ),
        (
            'dateGenerated="2026-02-27T00:00:09.554Z"',
            'dateGenerated="yesterday"',
            "line 2",
            "dateGenerated",
            "not an ISO date and time: 'yesterday'",
        ),
    ],
)
def test_un_bad_record(
    tmp_path: Path, old: str, new: str, record: str, field: str, message: str
) -> None:
    assert old in _UN
    path = _write(tmp_path, "un.xml", _UN.replace(old, new))
    assert message in _fails(un.parse, path, record, field).message


def test_un_wrong_root_and_empty_file(tmp_path: Path) -> None:
    other = '<?xml version="1.0"?>\n<sanctionEntities>\n</sanctionEntities>\n'
    err = _fails(un.parse, _write(tmp_path, "eu.xml", other), "line 2", "CONSOLIDATED_LIST")
    assert "the root element is <sanctionEntities>" in err.message
    _fails(un.parse, _write(tmp_path, "empty.xml", ""), "end of file", "CONSOLIDATED_LIST")


# -- BIS DPL -------------------------------------------------------------------

_DPL_HEADER = (
    '"Name"\t"Street_Address"\t"City"\t"State"\t"Country"\t"Postal_Code"\t"Effective_Date"\t'
    '"Expiration_Date"\t"Standard_Order"\t"Last_Update"\t"Action"\t"FR_Citation"\n'
)
_DPL = (
    _DPL_HEADER + '"AARON ABRAHAM VILLA"\t"3415 RIVERA AVENUE"\t"EL PASO"\t"TX"\t""\t"79905"\t'
    '"08/24/2022"\t"01/14/2026"\t"Y"\t"2022-08-29"\t"F.R. NOTICE ADDED"\t'
    '"87 F.R. 52741 8/29/2022"\n'
    '"AIR FREIGHT LTD"\t"P.O. BOX 28360"\t"DUBAI"\t""\t"AE"\t""\t"05/13/2022"\t"11/09/2022"\t'
    '"Y"\t"2022-05-18"\t"TDO RENEWAL"\t"87 F.R. 30173 5/18/2022"\n'
)


def test_dpl_snippet_is_valid(tmp_path: Path) -> None:
    parsed = dpl.parse(_write(tmp_path, "dpl.txt", _DPL))
    assert [p.name for p in parsed.parties] == ["AARON ABRAHAM VILLA", "AIR FREIGHT LTD"]
    assert parsed.published == "2022-08-29"


def test_dpl_row_missing_fields(tmp_path: Path) -> None:
    text = _DPL.replace('\t"TDO RENEWAL"\t"87 F.R. 30173 5/18/2022"', "")
    err = _fails(dpl.parse, _write(tmp_path, "dpl.txt", text), "line 3", "Action")
    assert "expected 12 fields, found 10" in err.message


def test_dpl_quote_not_doubled(tmp_path: Path) -> None:
    text = _DPL.replace('"3415 RIVERA AVENUE"', '"3415 "RIVERA" AVENUE"')
    err = _fails(dpl.parse, _write(tmp_path, "dpl.txt", text), "line 2", "Street_Address")
    assert "must be doubled" in err.message


def test_dpl_latin1_bytes(tmp_path: Path) -> None:
    data = _DPL.encode("utf-8").replace(b"DUBAI", "DUBAÏ".encode("latin-1"))
    _fails(dpl.parse, _write(tmp_path, "dpl.txt", data), "line 3", "City")


def test_dpl_unknown_and_missing_columns(tmp_path: Path) -> None:
    unknown = _DPL.replace('"Standard_Order"', '"Order_Type"')
    assert "unknown column" in (
        _fails(dpl.parse, _write(tmp_path, "a.txt", unknown), "line 1", "Order_Type").message
    )
    lines = _DPL.splitlines(keepends=True)
    missing = "".join(line.rsplit("\t", 1)[0] + "\n" for line in lines)  # no FR_Citation
    assert "missing column" in (
        _fails(dpl.parse, _write(tmp_path, "b.txt", missing), "line 1", "FR_Citation").message
    )


def test_dpl_bad_date(tmp_path: Path) -> None:
    text = _DPL.replace('"05/13/2022"', '"13th May"')
    err = _fails(dpl.parse, _write(tmp_path, "dpl.txt", text), "line 3", "Effective_Date")
    assert "not a date: '13th May'" in err.message


def test_dpl_saved_as_comma_separated(tmp_path: Path) -> None:
    text = _DPL.replace("\t", ",")
    err = _fails(dpl.parse, _write(tmp_path, "dpl.txt", text), "line 1", None)
    assert "tab-separated" in err.message


# -- Senzing JSON lines ----------------------------------------------------------

_SENZING: list[dict[str, object]] = [
    {
        "DATA_SOURCE": "OS_US_CONGRESS",
        "RECORD_ID": "Q170581",
        "RECORD_TYPE": "PERSON",
        "LAST_CHANGE": "2025-11-05T08:44:02",
        "NAMES": [{"NAME_TYPE": "PRIMARY", "NAME_FULL": "Nancy Pelosi"}],
        "DATES": [{"DATE_OF_BIRTH": "1940"}],
        "COUNTRIES": [{"NATIONALITY": "us"}],
    },
    {
        "DATA_SOURCE": "OS_US_CONGRESS",
        "RECORD_ID": "Q101198561",
        "RECORD_TYPE": "PERSON",
        "NAMES": [{"NAME_TYPE": "PRIMARY", "NAME_FULL": "Scott Franklin"}],
        "DATES": [{"DATE_OF_BIRTH": "1964"}],
    },
]


def _senzing_text(records: list[dict[str, object]] = _SENZING) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_senzing_snippet_is_valid(tmp_path: Path) -> None:
    parties = senzing.parse(_write(tmp_path, "s.json", _senzing_text())).parties
    assert [p.name for p in parties] == ["Nancy Pelosi", "Scott Franklin"]


def test_senzing_malformed_line(tmp_path: Path) -> None:
    # A comma missing after "RECORD_TYPE": "PERSON" on line 2.
    text = _senzing_text().replace('"PERSON", "NAMES"', '"PERSON" "NAMES"')
    err = _fails(senzing.parse, _write(tmp_path, "s.json", text), "line 2", "RECORD_TYPE")
    assert "invalid JSON at column" in err.message


def test_senzing_truncated_file(tmp_path: Path) -> None:
    text = _senzing_text()
    assert text.endswith('"DATES": [{"DATE_OF_BIRTH": "1964"}]}\n')
    cut = text[: -len('"1964"}]}\n')]  # stops inside the date of birth
    err = _fails(senzing.parse, _write(tmp_path, "s.json", cut), "line 2", "DATE_OF_BIRTH")
    assert "invalid JSON" in err.message


def test_senzing_latin1_bytes(tmp_path: Path) -> None:
    data = _senzing_text().encode("utf-8").replace(b"Franklin", "Françlin".encode("latin-1"))
    _fails(senzing.parse, _write(tmp_path, "s.json", data), "line 2", "NAME_FULL")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("RECORD_ID", None, "missing"),
        ("DATA_SOURCE", 42, "expected a string, found 42"),
        ("RECORD_TYPE", "SHIP", "unknown record type 'SHIP'"),
        ("DATES", [{"DATE_OF_BIRTH": "the sixties"}], "not a date: 'the sixties'"),
        ("NAMES", ["Scott Franklin"], "expected a list of attribute objects"),
        ("URL", {"href": "x"}, "expected a string or a list of attributes"),
    ],
)
def test_senzing_bad_value(tmp_path: Path, key: str, value: object, message: str) -> None:
    records: list[dict[str, object]] = [_SENZING[0], {**_SENZING[1], key: value}]
    field = "DATE_OF_BIRTH" if key == "DATES" else key
    path = _write(tmp_path, "s.json", _senzing_text(records))
    assert message in _fails(senzing.parse, path, "line 2", field).message


# -- through the loader ------------------------------------------------------


def test_load_reports_the_parser_error_unchanged(tmp_path: Path) -> None:
    path = _write(tmp_path, "dpl_2026-01-01.txt", _DPL.replace('"08/24/2022"', '"soon"'))
    workspace = Workspace(tmp_path / "ws")
    with pytest.raises(LoadError) as caught:
        load(resolve(str(path), None), workspace)
    assert (caught.value.file, caught.value.record, caught.value.field) == (
        str(path),
        "line 2",
        "Effective_Date",
    )
    assert workspace.versions() == []
