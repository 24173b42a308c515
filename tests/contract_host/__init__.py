"""A second host for the tests, written from HOST_CONTRACT.md alone: it imports nothing of
``mimosa_host``. ``store`` keeps its records and rules, ``server`` serves its SOAP services."""
