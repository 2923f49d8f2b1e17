"""zhengtai (政态): political-ecology risk assessment for a county discipline-inspection team."""

__version__ = "0.1.0"
