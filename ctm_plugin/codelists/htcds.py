"""Code lists of the Human Trafficking Case Data Standard (HTCDS) v2.0.

The codes are the HTCDS picklist value names, spelt exactly as the standard spells them
(they are what exports and mappings exchange); the labels are English msgids of the
``ctm_plugin`` domain. Where HTCDS is silent or inconsistent the choice is noted on the list.
"""

from __future__ import annotations

from collections.abc import Iterable

from ctm_plugin.i18n import N_

from . import Code, CodeList, labelled

# -- Person (prs_) --------------------------------------------------------------------------

GENDER = labelled(
    "gender",  # prs_Gender (IOM gender values, HTCDS v1.0)
    [
        ("Feminine", N_("Feminine")),
        ("Masculine", N_("Masculine")),
        ("TransgenderFeminine", N_("Transgender feminine")),
        ("TransgenderMasculine", N_("Transgender masculine")),
        ("NonConforming", N_("Gender non-conforming")),
        ("NonSpecifiedUnknown", N_("Not specified or unknown")),
    ],
)

MARITAL_STATUS = labelled(
    "marital_status",  # prs_MaritalStatus
    [
        ("Single", N_("Single")),
        ("Married", N_("Married")),
        ("Widowed", N_("Widowed")),
        ("Divorced", N_("Divorced")),
        ("Separated", N_("Separated")),
        ("RegisteredPartnership", N_("Registered partnership")),
    ],
)

EDUCATION = labelled(
    "education",  # prs_HighestLevelOfEducation: ISCED 2011 levels 0 to 8, in order
    [
        ("EarlyChildhoodEducation", N_("Early childhood education")),
        ("PrimaryEducation", N_("Primary education")),
        ("LowerSecondaryEducation", N_("Lower secondary education")),
        ("UpperSecondaryEducation", N_("Upper secondary education")),
        ("PostSecondaryNonTertiaryEducation", N_("Post-secondary non-tertiary education")),
        ("ShortCycleTertiaryEducation", N_("Short-cycle tertiary education")),
        ("BachelorsOrEquivalentLevel", N_("Bachelor's or equivalent level")),
        ("MastersOrEquivalentLevel", N_("Master's or equivalent level")),
        ("DoctoralOrEquivalentLevel", N_("Doctoral or equivalent level")),
    ],
)

# -- Victim context (vic_) ------------------------------------------------------------------

TRAFFICKING_STATUS = labelled(
    "trafficking_status",  # vic_TraffickingStatus
    [
        ("PossibleVictimOfTrafficking", N_("Possible victim of trafficking")),
        ("ActualVictimOfTrafficking", N_("Actual victim of trafficking")),
        ("NotAVictimOfTrafficking", N_("Not a victim of trafficking")),
    ],
)

DECIDING_ORGANISATION = labelled(
    "deciding_organisation",  # vic_TraffickingStatusDecisionMakingOrg (HTCDS spells "Organization")
    [
        ("Police", N_("Police")),
        ("NGO", N_("NGO")),
        ("CourtOrProsecution", N_("Court or prosecution")),
        ("NonPoliceGovernmentalOrganization", N_("Government body other than the police")),
        ("Other", N_("Other")),
    ],
)

RECRUITMENT_METHOD = labelled(
    "recruitment_method",  # vic_MethodOfRecruitment (multiselect)
    [
        ("AtAPlaceOfBusiness", N_("At a place of business")),
        ("AtAnEducationalInstitution", N_("At an educational institution")),
        ("AtWork", N_("At work")),
        ("ThroughOnlineSocialNetworks", N_("Through online social networks")),
        ("ThroughAnOnlineAdvertisement", N_("Through an online advertisement")),
        ("ThroughATelevisionAdvert", N_("Through a television advert")),
        ("ThroughANewspaperAdvert", N_("Through a newspaper advert")),
        ("ThroughFamilyOrFamilyEvents", N_("Through family or family events")),
        ("ThroughFriendsOrSocialEvents", N_("Through friends or social events")),
        ("Other", N_("Other")),
    ],
)

# The 17 items of `Field Definitions.md` (MethodsOfControl<Value>), which are also CTDC's
# meansOfControl<Value> names. The ODS picklist differs (16 values, no RestrictsMovement,
# PhysicalThreats/ThreatensChildrenFamily instead of Threats/UsesChildren); we follow the
# definitions so that the CTDC export groups map one to one.
CONTROL_METHOD = labelled(
    "control_method",  # vic_MethodsOfControl (multiselect)
    [
        ("DebtBondage", N_("Debt bondage")),
        ("TakesEarnings", N_("Taking of earnings")),
        ("RestrictsFinancialAccess", N_("Restricted access to finances")),
        ("Threats", N_("Threats")),
        ("PsychologicalAbuse", N_("Psychological abuse")),
        ("PhysicalAbuse", N_("Physical abuse")),
        ("SexualAbuse", N_("Sexual abuse")),
        ("FalsePromises", N_("False promises")),
        ("PsychoactiveSubstances", N_("Psychoactive substances")),
        ("RestrictsMovement", N_("Restricted movement")),
        ("RestrictsMedicalCare", N_("Restricted medical care")),
        ("ExcessiveWorkingHours", N_("Excessive working hours")),
        ("UsesChildren", N_("Control through the person's children")),
        ("ThreatOfLawEnforcement", N_("Threat of reporting to the authorities")),
        ("WithholdsNecessities", N_("Withholding of basic necessities")),
        ("WithholdsDocuments", N_("Withholding of documents")),
        ("Other", N_("Other")),
    ],
)

EXPLOITATION_TYPE = labelled(
    "exploitation_type",  # vic_TypeOfExploitation (multiselect); also the Palermo purposes
    [
        ("ForcedLabour", N_("Forced labour")),
        ("SexualExploitation", N_("Sexual exploitation")),
        ("ChildLabour", N_("Child labour")),
        ("ForcedMarriage", N_("Forced marriage")),
        ("Servitude", N_("Servitude")),
        ("ForcedMilitaryByNonStateActors", N_("Forced military service by non-state actors")),
        ("OrganRemoval", N_("Organ removal")),
        ("ForcedBegging", N_("Forced begging")),
        ("ForcedAdoption", N_("Forced adoption")),
        ("Surrogacy", N_("Surrogacy")),
        ("Other", N_("Other")),
    ],
)

SEXUAL_EXPLOITATION_TYPE = labelled(
    "sexual_exploitation_type",  # vic_TypeOfSexExploitation (multiselect)
    [
        ("Prostitution", N_("Prostitution")),
        ("Pornography", N_("Pornography")),
        ("RemoteInteractiveServices", N_("Remote interactive services")),
        ("PrivateSexualServices", N_("Private sexual services")),
    ],
)

# HTCDS vic_RelationshipToTrafficker (Familial, Acquainted, Unaquainted) cannot be split into
# CTDC's recruiterRelation* flags, so the CTM records the CTDC values directly; Familial is
# derivable from Family, Acquainted from IntimatePartner/Friend/Other.
RECRUITER_RELATIONSHIP = labelled(
    "recruiter_relationship",
    [
        ("IntimatePartner", N_("Intimate partner")),
        ("Friend", N_("Friend")),
        ("Family", N_("Family member")),
        ("Other", N_("Other")),
        ("Unknown", N_("Unknown")),
    ],
)


# -- Forced labour industry: ISIC Rev.4 ------------------------------------------------------
#
# Tier 1: the 21 sections, coded as HTCDS names them (`Field Definitions.md`, "Labour Industry
# (TIER 1)"). Tier 2: divisions, coded <section letter><2-digit division> (A01, C13...). Tier 3:
# groups, coded <section letter><3-digit group> (A011, A031...). HTCDS itself names tiers 2 and
# 3 by label only; the codes here are the ISIC numbers, so they stay stable and mappable. Each
# tier's `parent` is the code one tier up. Labels are the official ISIC Rev.4 English titles.


def isic_tier(value: str) -> int:
    """1 for a section (``A_Agriculture...``), 2 for a division (``A01``), 3 for a group (``A011``)."""
    if "_" in value:
        return 1
    return len(value) - 1


def _isic(entries: Iterable[tuple[str, str]]) -> CodeList:
    sections: dict[str, str] = {}
    codes = []
    for value, label in entries:
        if isic_tier(value) == 1:
            sections[value[0]] = value
            parent = None
        elif isic_tier(value) == 2:
            parent = sections[value[0]]
        else:
            parent = value[:3]
        codes.append(Code(value, label, parent=parent))
    return CodeList("labour_industry", codes)


LABOUR_INDUSTRY = _isic(
    [
        ("A_AgricultureForestryAndFishing", N_("Agriculture, forestry and fishing")),
        ("A01", N_("Crop and animal production, hunting and related service activities")),
        ("A011", N_("Growing of non-perennial crops")),
        ("A012", N_("Growing of perennial crops")),
        ("A013", N_("Plant propagation")),
        ("A014", N_("Animal production")),
        ("A015", N_("Mixed farming")),
        ("A016", N_("Support activities to agriculture and post-harvest crop activities")),
        ("A017", N_("Hunting, trapping and related service activities")),
        ("A02", N_("Forestry and logging")),
        ("A03", N_("Fishing and aquaculture")),
        ("A031", N_("Fishing")),
        ("A032", N_("Aquaculture")),
        ("B_MiningAndQuarrying", N_("Mining and quarrying")),
        ("C_Manufacturing", N_("Manufacturing")),
        ("C10", N_("Manufacture of food products")),
        ("C11", N_("Manufacture of beverages")),
        ("C12", N_("Manufacture of tobacco products")),
        ("C13", N_("Manufacture of textiles")),
        ("C14", N_("Manufacture of wearing apparel")),
        ("C15", N_("Manufacture of leather and related products")),
        (
            "C16",
            N_(
                "Manufacture of wood and of products of wood and cork, except furniture; "
                "manufacture of articles of straw and plaiting materials"
            ),
        ),
        ("C17", N_("Manufacture of paper and paper products")),
        ("C18", N_("Printing and reproduction of recorded media")),
        ("C19", N_("Manufacture of coke and refined petroleum products")),
        ("C20", N_("Manufacture of chemicals and chemical products")),
        ("C21", N_("Manufacture of basic pharmaceutical products and pharmaceutical preparations")),
        ("C22", N_("Manufacture of rubber and plastics products")),
        ("C23", N_("Manufacture of other non-metallic mineral products")),
        ("C24", N_("Manufacture of basic metals")),
        ("C25", N_("Manufacture of fabricated metal products, except machinery and equipment")),
        ("C26", N_("Manufacture of computer, electronic and optical products")),
        ("C27", N_("Manufacture of electrical equipment")),
        ("C28", N_("Manufacture of machinery and equipment n.e.c.")),
        ("C29", N_("Manufacture of motor vehicles, trailers and semi-trailers")),
        ("C30", N_("Manufacture of other transport equipment")),
        ("C31", N_("Manufacture of furniture")),
        ("C32", N_("Other manufacturing")),
        ("C33", N_("Repair and installation of machinery and equipment")),
        ("D_ElectricityGasSteamAndAirConditioningSupply", N_("Electricity, gas, steam and air conditioning supply")),
        (
            "E_WaterSupplySewerageWasteManagement",
            N_("Water supply; sewerage, waste management and remediation activities"),
        ),
        ("F_Construction", N_("Construction")),
        (
            "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
            N_("Wholesale and retail trade; repair of motor vehicles and motorcycles"),
        ),
        ("H_TransportationAndStorage", N_("Transportation and storage")),
        ("H49", N_("Land transport and transport via pipelines")),
        ("H50", N_("Water transport")),
        ("H51", N_("Air transport")),
        ("H52", N_("Warehousing and support activities for transportation")),
        ("H53", N_("Postal and courier activities")),
        # HTCDS splits this section into "Primarily accommodation / food / beverages"; the
        # ISIC divisions are 55 (accommodation) and 56 (food and beverage service activities).
        ("I_AccommodationAndFoodServiceActivities", N_("Accommodation and food service activities")),
        ("I55", N_("Accommodation")),
        ("I56", N_("Food and beverage service activities")),
        ("J_InformationAndCommunication", N_("Information and communication")),
        ("K_FinancialAndInsuranceActivities", N_("Financial and insurance activities")),
        ("L_RealEstateActivities", N_("Real estate activities")),
        ("M_ProfessionalScientificAndTechnicalActivities", N_("Professional, scientific and technical activities")),
        ("N_AdministrativeAndSupportServiceActivities", N_("Administrative and support service activities")),
        ("N77", N_("Rental and leasing activities")),
        ("N78", N_("Employment activities")),
        ("N79", N_("Travel agency, tour operator, reservation service and related activities")),
        ("N80", N_("Security and investigation activities")),
        ("N81", N_("Services to buildings and landscape activities")),
        ("N82", N_("Office administrative, office support and other business support activities")),
        ("O_PublicAdministrationAndDefence", N_("Public administration and defence; compulsory social security")),
        ("P_Education", N_("Education")),
        ("Q_HumanHealthAndSocialWorkActivities", N_("Human health and social work activities")),
        ("R_ArtsEntertainmentAndRecreation", N_("Arts, entertainment and recreation")),
        ("S_OtherServiceActivities", N_("Other service activities")),
        (
            "T_ActivitiesOfHouseholdsAsEmployers",
            N_(
                "Activities of households as employers; undifferentiated goods- and "
                "services-producing activities of households for own use"
            ),
        ),
        ("U_ActivitiesOfExtraterritorialOrganizations", N_("Activities of extraterritorial organizations and bodies")),
    ]
)

# -- Perpetrator context (per_) --------------------------------------------------------------

PERPETRATOR_ROLE = labelled(
    "perpetrator_role",  # per_RoleInProcess (multiselect)
    [
        ("TravellingPartner", N_("Travelling companion")),
        ("Transporter", N_("Transporter")),
        ("RecruiterOrIntermediary", N_("Recruiter or intermediary")),
        ("BrokerTravelAgent", N_("Broker or travel agent")),
        ("TransferredIndividual", N_("Transferred the person")),
        ("HarbouredIndividual", N_("Harboured the person")),
        ("SoldIndividual", N_("Sold the person")),
        ("BoughtIndividual", N_("Bought the person")),
        ("ReceivedIndividual", N_("Received the person")),
        ("ControlledIndividual", N_("Controlled the person")),
        ("Smuggler", N_("Smuggler")),
        ("Abuser", N_("Abuser")),
        ("Kidnapper", N_("Kidnapper")),
        ("Exploiter", N_("Exploiter")),
        ("Other", N_("Other")),
    ],
)

# -- Organisation (org_) ---------------------------------------------------------------------

ORGANISATION_TYPE = labelled(
    "organisation_type",  # org_Type
    [
        ("NGO", N_("NGO")),
        ("LawEnforcement", N_("Law enforcement")),
        ("HealthServiceOrganisation", N_("Health service organisation")),
        ("CentralGovernmentOrganisation", N_("Central government organisation")),
        ("LocalGovernmentOrganisation", N_("Local government organisation")),
        ("ImmigrationService", N_("Immigration service")),
        ("LegalService", N_("Legal service")),
        ("CorporateBusiness", N_("Business or corporation")),
        ("SchoolOrCollege", N_("School or college")),
    ],
)

# -- Case (cas_) -----------------------------------------------------------------------------

CASE_STATUS = labelled(
    "case_status",  # cas_Status
    [
        ("Active", N_("Active")),
        ("FollowUp", N_("Follow-up")),
        ("Closed", N_("Closed")),
        ("ClosedReferred", N_("Closed after referral")),
    ],
)

REFERRAL_REASON = labelled(
    "referral_reason",  # cas_ReasonForIncomingReferral and cas_ReasonForOutgoingReferral
    [
        ("AdditionalServicesRequired", N_("Additional services required")),
        ("MigrationOrChangeOfLocation", N_("Migration or change of location")),
        ("Other", N_("Other")),
    ],
)

# -- Support plan (spl_) and the CTM's assistance services ------------------------------------

SUPPORT_PLAN_TYPE = labelled(
    "support_plan_type",  # spl_Type
    [
        ("Education", N_("Education support")),
        ("Financial", N_("Financial support")),
        ("Health", N_("Health")),
        ("LabourExploitationRehabilitation", N_("Rehabilitation after labour exploitation")),
        ("Legal", N_("Legal support")),
        ("Livelihood", N_("Livelihood")),
        ("RightsBasedTraining", N_("Rights-based training")),
        ("SexualExploitationRehabilitation", N_("Rehabilitation after sexual exploitation")),
        ("SocialCare", N_("Social care")),
    ],
)


def _service(value: str, label: str, htcds: str) -> Code:
    return Code(value, label, extra={"htcds": htcds})


# The CTM's assistance services (data-standards §6), finer than spl_Type; extra["htcds"] is the
# spl_Type a service rolls up to in HTCDS exports. Choices where HTCDS has no exact match:
# - Shelter, Interpretation, FamilyTracing, VoluntaryReturn and Other go to SocialCare, the
#   general protection and case-support type (HTCDS has no accommodation, travel or "other").
# - Psychosocial goes to Health (mental health care), not to the two *Rehabilitation types:
#   those depend on the form of exploitation, which a service type cannot know.
# - Documentation (identity and travel documents) goes to Legal: restoring legal identity
#   and status.
# - VocationalTraining goes to Livelihood, not Education: in IOM reintegration it is economic
#   support aimed at work, like JobReferral, SubsidisedEmployment and SelfEmployment.
# - MicroCredit and FinancialAllowance go to Financial; Education (schooling, literacy) to
#   Education.
SERVICE_TYPE = CodeList(
    "service_type",
    [
        _service("Shelter", N_("Shelter"), "SocialCare"),
        _service("Medical", N_("Medical assistance"), "Health"),
        _service("Psychosocial", N_("Psychosocial support"), "Health"),
        _service("Legal", N_("Legal assistance"), "Legal"),
        _service("Interpretation", N_("Interpretation"), "SocialCare"),
        _service("FamilyTracing", N_("Family tracing"), "SocialCare"),
        _service("Documentation", N_("Identity and travel documents"), "Legal"),
        _service("VoluntaryReturn", N_("Voluntary return"), "SocialCare"),
        _service("VocationalTraining", N_("Vocational training"), "Livelihood"),
        _service("JobReferral", N_("Job referral"), "Livelihood"),
        _service("SubsidisedEmployment", N_("Subsidised employment"), "Livelihood"),
        _service("SelfEmployment", N_("Self-employment support"), "Livelihood"),
        _service("MicroCredit", N_("Microcredit"), "Financial"),
        _service("Education", N_("Education and schooling"), "Education"),
        _service("FinancialAllowance", N_("Financial allowance"), "Financial"),
        _service("Other", N_("Other"), "SocialCare"),
    ],
)
