"""Counter-Trafficking Module (CTM): a MiMOSA plugin for counter-trafficking case work."""

from importlib.metadata import version

__version__ = version("ctm-plugin")
