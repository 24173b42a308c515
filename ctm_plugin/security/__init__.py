"""Permissions, field groups and roles: who may see and do what in the CTM."""
