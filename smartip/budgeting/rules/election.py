"""The plain-data form of a PB election that every counting rule takes (no Django, no pabutools).

Ballots are stored sparse, CSR-style: voter v's entries are
`entry_project[voter_ptr[v]:voter_ptr[v + 1]]` with the matching `entry_score` values.
- approval / choose-1 ballots: score 1 for each approved project;
- cumulative ballots: the points given;
- ordinal ballots: entries in rank order (first = most preferred), score = 1 for each (rules that
  need ranks read the position inside the voter's slice).
"""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

BallotKind = Literal["approval", "choose-1", "cumulative", "scoring", "ordinal"]


@dataclass(frozen=True)
class Election:
    project_ids: tuple[str, ...]  # pabulib project ids, as strings
    costs: npt.NDArray[np.int64] | npt.NDArray[np.float64]  # one per project, same order as project_ids
    budget: float
    ballot_kind: BallotKind
    voter_ptr: npt.NDArray[np.int64]  # length n_voters + 1
    entry_project: npt.NDArray[np.int32]  # project index per ballot entry
    entry_score: npt.NDArray[np.float64]  # score per ballot entry
    voter_weight: npt.NDArray[np.float64] | None = None  # None = every voter weighs 1
    meta: dict[str, str] = field(default_factory=dict)  # the file's META section, untouched

    @property
    def n_projects(self) -> int:
        return len(self.project_ids)

    @property
    def n_voters(self) -> int:
        return len(self.voter_ptr) - 1
