"""The CTM's own tables and the pure rules that work on them."""
