"""econsec: allied economic-security coordination.

Restricted-party screening against the real lists, export-control rules as
code, diversion monitoring, scenario planning and a coordination exchange.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
