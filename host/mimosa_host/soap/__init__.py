"""The host's SOAP services (HOST_CONTRACT.md §2): BeneficiaryService and MovementService.

The WSDL and XSD in ``wsdl/`` are the contract; :mod:`.app` serves them and the operations
under ``/soap``. Importing this package loads nothing but itself: the models register their
tables from :mod:`mimosa_host.models`, the web shell mounts :mod:`.app`.
"""
