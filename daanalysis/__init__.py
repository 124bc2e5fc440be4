"""daanalysis: quarterly domestic abuse demand and staffing analysis for UK local authorities.

The narrow waist: files -> ``load`` (data contract) -> ``clean`` (row ledger) -> ``panel`` (one tidy
monthly table per area) -> ``demand`` / ``staffing`` metrics -> notebooks -> HTML (``report``).
"""

__version__ = "0.1.0"
