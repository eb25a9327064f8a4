"""Small builders shared by the policy tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from orch.inventory import BsshDataset, IcaAnalysis, IcaData
from orch.policy.build import FileBuilder

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)


@dataclass
class Ctx:
    now: datetime = NOW
    managed: set[str] = field(default_factory=set)  # recorded for every group (as schema-1 records are)
    bssh: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_group: dict[str, set[str]] = field(default_factory=dict)  # group -> analyses it recorded

    def is_managed(self, analysis: IcaAnalysis, group: str | None = None) -> bool:
        if analysis.id in self.managed:
            return True
        groups = self.by_group.values() if group is None else [self.by_group.get(group, set())]
        return any(analysis.id in ids for ids in groups)

    def bsshoutput(self, analysis: IcaAnalysis) -> dict[str, Any] | None:
        return self.bssh.get(analysis.id)


def analysis(id="a1", status="SUCCEEDED", pipeline="BclConvert_v4_1_23", start: datetime | None = NOW,
             raw: dict | None = None) -> IcaAnalysis:
    raw = dict(raw or {})
    if start is not None:
        raw.setdefault("startDate", start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return IcaAnalysis(id=id, project_id="p1", reference=f"RUN-{id}", user_reference="RUN", pipeline_code=pipeline,
                       status=status, time_created=start, start_date=start, raw=raw)


def data(name="M-1_S1_L001_R1_001.fastq.gz", status="AVAILABLE", raw: dict | None = None) -> IcaData:
    return IcaData(id="fil.1", project_id="p1", owning_project_id="p1", name=name, path=f"/out/{name}",
                   data_type="FILE", status=status, time_created=NOW, raw=raw or {})


def dataset(created: str | None, archived=False) -> BsshDataset:
    raw = {"DateCreated": created} if created is not None else {}
    return BsshDataset(id="ds.1", name="d", project_id="1", date_created=None, is_archived=archived, raw=raw)


def build_matcher(value: Any, vars: dict[str, Any] | None = None, matchers: dict | None = None):
    """Build one matcher as a policy file would; returns (matcher or None, problems)."""
    b = FileBuilder("t.yaml", b"")
    b.vars = dict(vars or {})

    class _Doc:
        data = {"matchers": matchers or {}}

        @staticmethod
        def pos(path, key=False):
            return (1, 1)

    b.doc = _Doc()  # type: ignore[assignment]
    m = b.matcher(value, ("m",))
    return m, [p.message for p in b.problems]
