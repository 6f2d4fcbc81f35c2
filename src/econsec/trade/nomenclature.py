"""Product codes: CN8 → HS6 → Common High Priority List tier.

The HS 2022 nomenclature (``hs/harmonized-system-2022.csv``) and the CHPL
(``rules/chpl_2024-02-23.csv``, 50 HS-6 codes in tiers 1, 2, 3.A, 3.B, 4.A,
4.B) are read from the shared data folder. A CN8 code's first six digits are
its HS6 subheading. Codes of 2020–2021 whose HS6 was deleted in HS 2022 keep
their HS4 heading: they load, with a recorded warning, but map to no HS6.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from econsec.lists._common import LoadError
from econsec.settings import data_dir

HS_FILE = "hs/harmonized-system-2022.csv"
CHPL_FILE = "rules/chpl_2024-02-23.csv"


class NomenclatureError(LoadError):
    pass


@dataclass(frozen=True, slots=True)
class Nomenclature:
    #: HS 2022 codes (2, 4 and 6 digits) → description.
    hs: dict[str, str]
    #: HS6 → CHPL tier (``1``, ``2``, ``3.A`` …).
    chpl: dict[str, str]
    hs_file: str
    chpl_file: str

    def check(self, code: str) -> tuple[int, str | None]:
        """(level, problem) for a product code; problem None when the code is known.

        Raises ValueError for a code that cannot be a CN/HS code at all or whose
        HS chapter does not exist. A heading or subheading missing from HS 2022
        (deleted in the 2022 revision, valid in the CN of 2020–2021) is a problem
        to record, not an error.
        """
        if not code.isdigit() or len(code) not in (2, 4, 6, 8):
            raise ValueError(f"{code!r} is not a 2/4/6/8-digit CN/HS code")
        if code[:2] not in self.hs:
            raise ValueError(f"{code!r}: HS chapter {code[:2]} is not in HS 2022 ({self.hs_file})")
        if len(code) >= 4 and code[:4] not in self.hs:
            return len(code), f"HS4 {code[:4]} is not in HS 2022 (code of an older HS edition)"
        if len(code) >= 6 and code[:6] not in self.hs:
            return len(code), f"HS6 {code[:6]} is not in HS 2022 (code of an older HS edition)"
        return len(code), None

    def hs6(self, code: str) -> str | None:
        if len(code) >= 6 and code[:6] in self.hs:
            return code[:6]
        return None

    def tier(self, code: str) -> str | None:
        six = self.hs6(code)
        return self.chpl.get(six) if six else None


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise NomenclatureError(path, "header", missing[0], "column missing")
        return list(reader)


@cache
def load_nomenclature(folder: Path | None = None) -> Nomenclature:
    base = folder or data_dir()
    if base is None:
        raise NomenclatureError(HS_FILE, None, None, "shared data folder not found (ECONSEC_DATA)")
    hs_path, chpl_path = base / HS_FILE, base / CHPL_FILE
    hs = {r["hscode"]: r["description"] for r in _read(hs_path, ("hscode", "description"))}
    chpl: dict[str, str] = {}
    for i, r in enumerate(_read(chpl_path, ("tier", "hs6")), start=2):
        if r["hs6"] not in hs:
            raise NomenclatureError(chpl_path, f"line {i}", "hs6", f"{r['hs6']} not in HS 2022")
        chpl[r["hs6"]] = r["tier"]
    return Nomenclature(hs=hs, chpl=chpl, hs_file=str(hs_path), chpl_file=str(chpl_path))
