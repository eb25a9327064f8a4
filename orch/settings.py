"""Options shared by ``orch plan`` and ``orch apply`` (contracts section 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_ICA_URL = "https://ica.illumina.com/ica/rest"
DEFAULT_BASESPACE_URL = "https://api.basespace.illumina.com"
DEFAULT_STATE = ".orch/state.db"
SANDBOX_DIR = ".orch/sandbox"


@dataclass
class RunSettings:
    policy_paths: list[str] = field(default_factory=list)
    var_overrides: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None  # None: real UTC time, or the sandbox world's clock
    ica_url: str | None = None  # None: ORCH_ICA_URL, else DEFAULT_ICA_URL
    basespace_url: str | None = None  # None: ORCH_BASESPACE_URL, config apiServer, default
    api_key_file: str | None = None
    basespace_config: str | None = None
    s3_endpoint_url: str | None = None
    state: str | None = None  # None: DEFAULT_STATE, or the sandbox ledger with --sandbox
    sandbox: bool = False
    world: str | None = None  # None: the demo world shipped with orch
    format: str = "table"  # table | json | markdown
    out: str | None = None
    detailed_exitcode: bool = False
    yes: bool = False
    plan_file: str | None = None  # apply only
    only: list[str] = field(default_factory=list)  # --only: policy-name globs to plan (others left out)
    concurrency: int = 8
