"""Reading a SOAP fault's detail: the host's ``HostFault`` or another service's (the partner service's
``PartnerFault``)."""

from __future__ import annotations

from lxml import etree

HOST_NS = "urn:mimosa:host:v1"


def host_fault(fault, detail: str = f"{{{HOST_NS}}}HostFault") -> tuple[str, str, list[str]]:  # noqa: ANN001 - a zeep Fault, or a raw answer's bytes
    """(faultcode, HostFault Code, [Field, ...]) of a zeep ``Fault`` or of a raw SOAP answer (``detail``: the
    detail element's tag, another service's fault)."""
    if isinstance(fault, bytes):
        fault = etree.fromstring(fault).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
        faultcode, detail_of = fault.findtext("faultcode"), fault.find("detail")
    else:
        faultcode, detail_of = fault.code, fault.detail
    ns = detail[: detail.index("}") + 1]
    found = detail_of.find(detail)
    return faultcode, found.findtext(f"{ns}Code"), [f.text for f in found.findall(f"{ns}Field")]
