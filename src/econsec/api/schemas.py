"""Request and response bodies of the HTTP API (they document the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


class ScreenRequest(BaseModel):
    """The same fields as the options of `econsec screen`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, examples=["Huawei Technologies Co., Ltd."])
    schema_: str | None = Field(
        default=None,
        alias="schema",
        description="Person, Organization, Vessel, Aircraft or LegalEntity.",
    )
    country: list[str] = Field(
        default_factory=list, description="ISO-2 codes or country names (one or several)."
    )
    dob: list[str] = Field(default_factory=list, description="Dates of birth, YYYY[-MM[-DD]].")
    lists: list[str] = Field(
        default_factory=list, description="Only these sources or list codes (un_sc, SDN, EL …)."
    )
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    limit: int = Field(default=10, ge=1, le=100)
    date: dt.date | None = Field(
        default=None, description="Ownership (50 %) rules as of this date (default today)."
    )

    @field_validator("country", "dob", "lists", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _as_list(value)


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name1: str = Field(min_length=1)
    name2: str = Field(min_length=1)
    schema_: str | None = Field(default=None, alias="schema")


class Feature(BaseModel):
    feature: str
    score: float
    effect: float
    detail: str


class SourceRef(BaseModel):
    file: str
    record: str
    url: str | None


class Result(BaseModel):
    entity_id: str
    list_: str = Field(alias="list")
    source: str
    schema_: str = Field(alias="schema")
    name: str
    matched_name: str
    score: float
    explanation: list[Feature]
    programs: list[str]
    countries: list[str]
    dates_of_birth: list[str]
    listed_on: str | None
    license_requirement: str | None
    license_policy: str | None
    source_ref: SourceRef
    #: The list's remarks on the entry; for ownership hits, why the entity is
    #: covered (the chain, in one line).
    remarks: str | None = None


class ListVersion(BaseModel):
    version_id: str
    source: str
    label: str
    published: str | None
    content_hash: str
    entry_count: int
    loaded_at: str
    origin: str
    parser: str
    active: bool


class Query(BaseModel):
    name: str
    schema_: str | None = Field(alias="schema")
    countries: list[str]
    dates_of_birth: list[str]
    lists: list[str]
    threshold: float | None
    limit: int


class ScreenResponse(BaseModel):
    query: Query
    algorithm: str
    threshold: float
    results: list[Result]
    list_versions: list[ListVersion]
    #: Hits against entities covered by the ownership rules (50 %) on the date.
    ownership: list[Result] = Field(default_factory=list)


class CompareResponse(BaseModel):
    score: float
    algorithm: str
    explanation: list[Feature]
