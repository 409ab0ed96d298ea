"""Code values and field names the engine understands (DOMAIN.md §2–§3).

They live in one place so that plan validation, the trial-calc parser and the engine agree on
what a valid plan or record is; a new contract of the same families needs no new codes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from insurance_admin.core import money

# Person attributes; the first value of each tuple is the default (DOMAIN.md §4.5).
CATEGORY: Final = ("ordinary", "special")
EMPLOYMENT: Final = ("active", "retired")
HEALTH: Final = ("healthy", "preexisting")

CLAIM_KINDS: Final = (
    "inpatient",
    "outpatient",
    "special_outpatient",
    "accident_inpatient",
    "student_accident_outpatient",
    "special_drug",
)
PLACES: Final = (
    "in_region",
    "out_of_region",
    "local",
    "province_referral",
    "out_of_province_referral",
    "remote_resident",
)
HOSP_LEVELS: Final = ("1", "2", "3", "3A")
DRUG_LISTS: Final = ("sd1_domestic", "sd1_overseas", "sd2")
ITEM_TYPES: Final = ("drug", "implant")

#: Code-valued attributes a selector may test, with their allowed values.
CODE_ATTRIBUTES: Final[dict[str, tuple[str, ...]]] = {
    "category": CATEGORY,
    "employment": EMPLOYMENT,
    "health": HEALTH,
    "claim_kind": CLAIM_KINDS,
    "place": PLACES,
    "hosp_lv": HOSP_LEVELS,
    "drug_list": DRUG_LISTS,
}
#: Boolean attributes a selector may test.
BOOL_ATTRIBUTES: Final = ("continuous_no_claim_3y", "student", "designated")

PERSON_ATTRIBUTES: Final = ("category", "employment", "health", "continuous_no_claim_3y", "student")
RECORD_ATTRIBUTES: Final = ("claim_kind", "place", "hosp_lv", "designated", "drug_list")
#: Every attribute name a selector may use, in a fixed order (used for explanations).
SELECTOR_ATTRIBUTES: Final = PERSON_ATTRIBUTES + RECORD_ATTRIBUTES

#: Settlement amount fields (yuan, 2 dp) a base formula may reference (DOMAIN.md §3).
AMOUNT_FIELDS: Final = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "over_cap_amt",
    "drug_amount",
)

# The one CENT (the rounding step of every amount) is the money helpers'; both are pure.
CENT: Final = money.CENT
ZERO: Final = Decimal("0.00")
ONE: Final = Decimal("1")
