"""Facts stage: what an order authorises, read from its text after matching.

For acts with a hit in a facts category (drone, VSA, …), ``extract_facts`` returns the periods
(ISO date-times in the administration's time zone), the communes (INSEE codes) and perimeter,
the operator, the maximum number of cameras, the purposes and the occasion, each with the
sentence it came from. ``timing`` says how long before its start an order could be read.
"""

from attrap.facts.extract import act_context, extract_facts
from attrap.facts.model import FACTS_VERSION, ActContext, Commune, Facts, Operator, Period

__all__ = [
    "FACTS_VERSION",
    "ActContext",
    "Commune",
    "Facts",
    "Operator",
    "Period",
    "act_context",
    "extract_facts",
]
