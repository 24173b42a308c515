"""The CTM's implementations of the host's hooks, one module per concern."""
