"""Diversion monitoring on trade statistics: loaders, indicators, alerts (docs/trade.md)."""
