"""Splitting the name column of US lists into name, inline aliases and qualifiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from econsec.lists.listed_names import ListedName, split_listed_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "PMC Wagner; and any successor, sub-unit, or subsidiary thereof",
            ListedName("PMC Wagner", (), ("and any successor, sub-unit, or subsidiary thereof",)),
        ),
        (
            "EuroAsia and any successor, sub-unit, or subsidiary thereof",
            ListedName("EuroAsia", (), ("and any successor, sub-unit, or subsidiary thereof",)),
        ),
        (
            "Russian Aerospace Forces (aka VKS); "
            "and any successor, sub-unit, or subsidiary thereof",
            ListedName(
                "Russian Aerospace Forces",
                ("VKS",),
                ("and any successor, sub-unit, or subsidiary thereof",),
            ),
        ),
        ("KOW SENG LIM -AKA- ERIC LIM", ListedName("KOW SENG LIM", ("ERIC LIM",))),
        (
            "COREZING INTERNATIONAL -AKAS- COREZING TECH PTE LTD, CORE ZING",
            ListedName("COREZING INTERNATIONAL", ("COREZING TECH PTE LTD", "CORE ZING")),
        ),
        (
            "Cho Yan Nathan; a.k.a Nathan Man Man",
            ListedName("Cho Yan Nathan", ("Nathan Man Man",)),
        ),
        ("PEARL (A.K.A. NEI-CHIEN CHU) LI", ListedName("PEARL LI", ("NEI-CHIEN CHU",))),
        (
            "LTS Holding Limited (f.k.a. IPP-International Petroleum Products Ltd.)",
            ListedName("LTS Holding Limited", ("IPP-International Petroleum Products Ltd.",)),
        ),
        (
            "Ch'oe Ch'o'l-min (a.k.a Choe Chol Min) (DPRK individual)",
            ListedName("Ch'oe Ch'o'l-min", ("Choe Chol Min",), ("DPRK individual",)),
        ),
        (
            "Universal Enterprise Limited [aka General Technology Limited, aka Tiger Force "
            "Electronics] (Hong Kong Entity), and its sub-units and successors",
            ListedName(
                "Universal Enterprise Limited",
                ("General Technology Limited", "Tiger Force Electronics"),
                ("and its sub-units and successors", "Hong Kong Entity"),
            ),
        ),
        (
            "Huawei Technologies (Yangon) Co., Ltd.,",
            ListedName("Huawei Technologies (Yangon) Co., Ltd."),
        ),
    ],
)
def test_split_listed_name(raw: str, expected: ListedName) -> None:
    assert split_listed_name(raw) == expected


@pytest.mark.parametrize(
    "plain",
    [
        "Rosoboronexport",
        "SEMICONDUCTOR SYSTEMS INTL., INC. (SSI)",
        "China Unicom (Hong Kong) Limited",
        "AFKAR SYSTEM YAZD COMPANY",  # "fka" inside a word is not an alias marker
        "Bank Melli Iran",
    ],
)
def test_ordinary_names_are_left_alone(plain: str) -> None:
    assert split_listed_name(plain) == ListedName(plain)


@given(st.text(min_size=1, max_size=80).filter(lambda s: " ".join(s.split()).strip(" ;,")))
def test_never_returns_an_empty_name(raw: str) -> None:
    result = split_listed_name(raw)
    assert result.name
    assert result.name not in result.aliases
