"""Use cases: each is one transaction in a mission-scoped session, checks its permission,
validates through a schema, and writes an audit event (never the sensitive values)."""
