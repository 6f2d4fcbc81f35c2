"""Scenario planning: defence-industrial dependence, input-output shocks, scenarios."""
