"""SMARTiP: a platform on which a city and its citizens co-produce public services."""

__version__ = "0.1.0"
