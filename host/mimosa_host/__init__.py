"""MiMOSA reference host: the platform the CTM plugin lives in, for development, demos and tests."""

from importlib.metadata import version

__version__ = version("mimosa-host")
