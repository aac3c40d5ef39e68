"""IEEE 802.3 Channel Operating Margin (Annex 93A, Annex 178A) and Effective Return Loss (93A.5).

``compute_com`` evaluates a measured channel (thru and its NEXT/FEXT aggressors, 4-port Touchstone)
against one clause's parameter table (``tables/*.toml``, one file per clause, every value with its
source) and returns COM, ERL and the chosen equalisation with the clause's cable-assembly limits.
"""

from accbench.dsp.com.compute import ComCase, ComResult, compute_com
from accbench.dsp.com.params import ClauseParams, clause_names, load_clause

__all__ = ["ClauseParams", "ComCase", "ComResult", "clause_names", "compute_com", "load_clause"]
