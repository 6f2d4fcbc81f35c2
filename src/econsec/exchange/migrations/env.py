"""Alembic environment: run programmatically by econsec.exchange.db.migrate."""

from __future__ import annotations

from alembic import context

from econsec.exchange.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the exchange migrations through econsec.exchange.db.migrate")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
