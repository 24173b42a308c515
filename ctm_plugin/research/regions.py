"""UN M49 regions and sub-regions of ISO 3166-1 countries: how a research export generalises a country.

Neither pycountry nor Babel's CLDR data carries the M49 grouping, so it is kept here as data (the UN
Statistics Division's "Standard country or area codes for statistical use", regions and sub-regions; the
intermediate regions of Africa and the Americas are not used). Taiwan, which M49 does not list, is placed in
Eastern Asia; Antarctica, which belongs to no region, generalises to :data:`NO_REGION`.
"""

from __future__ import annotations

from typing import Final

NO_REGION: Final = "999"
"""The code of a country that no M49 region holds (Antarctica, a code the table does not know)."""

REGIONS: Final = {
    "002": "Africa",
    "019": "Americas",
    "142": "Asia",
    "150": "Europe",
    "009": "Oceania",
}

SUB_REGIONS: Final = {
    # code: (name, region, countries as ISO 3166-1 alpha-3)
    "015": ("Northern Africa", "002", "DZA EGY LBY MAR SDN TUN ESH"),
    "202": (
        "Sub-Saharan Africa",
        "002",
        "IOT BDI COM DJI ERI ETH ATF KEN MDG MWI MUS MYT MOZ REU RWA SYC SOM SSD UGA TZA ZMB ZWE "
        "AGO CMR CAF TCD COG COD GNQ GAB STP BWA SWZ LSO NAM ZAF "
        "BEN BFA CPV CIV GMB GHA GIN GNB LBR MLI MRT NER NGA SHN SEN SLE TGO",
    ),
    "419": (
        "Latin America and the Caribbean",
        "019",
        "AIA ATG ABW BHS BRB BES VGB CYM CUB CUW DMA DOM GRD GLP HTI JAM MTQ MSR PRI BLM KNA LCA MAF VCT SXM "
        "TTO TCA VIR BLZ CRI SLV GTM HND MEX NIC PAN ARG BOL BVT BRA CHL COL ECU FLK GUF GUY PRY PER SGS SUR "
        "URY VEN",
    ),
    "021": ("Northern America", "019", "BMU CAN GRL SPM USA"),
    "143": ("Central Asia", "142", "KAZ KGZ TJK TKM UZB"),
    "030": ("Eastern Asia", "142", "CHN HKG MAC PRK JPN MNG KOR TWN"),
    "035": ("South-eastern Asia", "142", "BRN KHM IDN LAO MYS MMR PHL SGP THA TLS VNM"),
    "034": ("Southern Asia", "142", "AFG BGD BTN IND IRN MDV NPL PAK LKA"),
    "145": ("Western Asia", "142", "ARM AZE BHR CYP GEO IRQ ISR JOR KWT LBN OMN QAT SAU PSE SYR TUR ARE YEM"),
    "151": ("Eastern Europe", "150", "BLR BGR CZE HUN POL MDA ROU RUS SVK UKR"),
    "154": ("Northern Europe", "150", "ALA DNK EST FRO FIN GGY ISL IRL IMN JEY LVA LTU NOR SJM SWE GBR"),
    "039": ("Southern Europe", "150", "ALB AND BIH HRV GIB GRC VAT ITA MLT MNE MKD PRT SMR SRB SVN ESP"),
    "155": ("Western Europe", "150", "AUT BEL FRA DEU LIE LUX MCO NLD CHE"),
    "053": ("Australia and New Zealand", "009", "AUS CXR CCK HMD NZL NFK"),
    "054": ("Melanesia", "009", "FJI NCL PNG SLB VUT"),
    "057": ("Micronesia", "009", "GUM KIR MHL FSM NRU MNP PLW UMI"),
    "061": ("Polynesia", "009", "ASM COK PYF NIU PCN WSM TKL TON TUV WLF"),
}

_SUB_REGION_OF: Final = {
    country: code for code, (_name, _region, countries) in SUB_REGIONS.items() for country in countries.split()
}


def sub_region(country: str) -> str:
    """The M49 sub-region code of an alpha-3 country ("THA" -> "035"), :data:`NO_REGION` if none."""
    return _SUB_REGION_OF.get(country.upper(), NO_REGION)


def region(country: str) -> str:
    """The M49 region code of an alpha-3 country ("THA" -> "142"), :data:`NO_REGION` if none."""
    code = sub_region(country)
    return SUB_REGIONS[code][1] if code in SUB_REGIONS else NO_REGION
