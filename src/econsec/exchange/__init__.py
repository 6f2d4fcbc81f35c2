"""The coordination exchange: denials shared between partners under TLP 2.0.

A separate FastAPI server (``econsec exchange serve``) over SQLAlchemy, with
Alembic migrations, access control built into every query and a hash-chained
audit log. See ``docs/exchange.md``.
"""
