"""Adapters to the systems the CTM talks to over the wire."""
