"""Alembic migrations of the exchange database (run by econsec.exchange.db.migrate)."""
