"""The host's SOAP services (HOST_CONTRACT.md §2), reached with zeep from the vendored WSDL.

``client.HostClient`` is the way in; ``errors`` says how a call can fail.
"""
