"""Settings declared once for every command (see :mod:`secscan.settings.catalog`).

The bottom of secscan: it imports no scanner, command, reporter or GitLab module. Scanners'
names arrive as data where a setting has one value per scanner (``timeouts``).
"""

from secscan.settings.catalog import ALL, for_command
from secscan.settings.declare import UNSET, Layer, Setting, Sourced, Unset
from secscan.settings.layers import Effective, Raw, combine, env_layer, known_variables, unknown_variables

__all__ = [
    "ALL",
    "UNSET",
    "Effective",
    "Layer",
    "Raw",
    "Setting",
    "Sourced",
    "Unset",
    "combine",
    "env_layer",
    "for_command",
    "known_variables",
    "unknown_variables",
]
