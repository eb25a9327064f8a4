"""The MGI pack's world on the in-memory fakes, shared by the planner, applier and limits tests
(a helper module, not a test module)."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

from engine_fakes import NOW, FakeBssh, FakeIca, analysis, data
from orch.engine.context import PlanContext
from orch.engine.ledger import Ledger
from orch.engine.planner import build_plan
from orch.inventory import BsshProject
from orch.policy.loader import load_policies

MGI = str(Path(__file__).resolve().parents[2] / "policies" / "mgi.yaml")
SRC, DST = "p-src", "p-dst"


def days_ago(n: float) -> str:
    return (NOW - timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def mgi_world() -> tuple[FakeIca, FakeBssh]:
    ica, bssh = FakeIca(), FakeBssh()
    ica.add_project("ken_debug", SRC)
    ica.add_project("Ken_demos", DST)

    def add_analysis(aid, user_ref, age, status="SUCCEEDED", folder_status="AVAILABLE", files=(), bss=None,
                     pipeline="BclConvert_v4_1_23"):
        a = analysis(SRC, aid, user_ref, status=status, start=days_ago(age), pipeline=pipeline)
        ica.analyses[SRC].append(a)
        root = f"/ilmn-analyses/{user_ref}/output/"
        ica.add(data(SRC, root, f"fol.{aid}", status=folder_status))
        ica.outputs[aid] = f"fol.{aid}"
        for i, name in enumerate(files):
            ica.add(data(SRC, root + "Samples/" + name, f"fil.{aid}.{i}"))
        if bss is not None:
            ica.add(data(SRC, root + "Reports/bsshoutput.json", f"fil.{aid}.bssh"),
                    json.dumps({"Projects": {"OutputProject": {"Name": bss}}}).encode())
        return a

    add_analysis("a1", "20261120_LH00619_0021_B22CCFJLT4", 5, bss="BS_NEW",
                 files=["M-1_S1_L001_R1_001.fastq.gz", "M_2_S2_L001_R1_001.fastq.gz", "m-3_S3_L001_R1_001.fastq.gz",
                        "Phix_S4_L001_R1_001.fastq.gz", "Undetermined_S0_L001_R1_001.fastq.gz",
                        "M-4_S5_L001_R1_001.fastq"])
    add_analysis("a2", "RUN_FAILED_OLD", 100, status="FAILED")
    add_analysis("a3", "RUN_ARCHIVE", 70)
    add_analysis("a4", "RUN_ARCHIVED_OLD", 120, folder_status="ARCHIVED")
    add_analysis("a5", "RUN_IN_TRANSIT", 100, folder_status="ARCHIVING")
    add_analysis("a6", "20260817_LH00619_0005_B22XYZ12K3", 100, bss="BS_OLD")
    add_analysis("a7", "RUNNING", 1, status="INPROGRESS")
    add_analysis("a8", "M-300_germline", 5, pipeline="DRAGEN_Germline", files=["M-300_S1_L001_R1_001.fastq.gz"])
    bssh.projects = [BsshProject(id="100", name="BS_NEW"), BsshProject(id="200", name="BS_OLD"),
                     BsshProject(id="300", name="BS_OTHER")]
    bssh.add_dataset("200", "ds.old", "M-1_L001", days_ago(95))
    bssh.add_dataset("200", "ds.oldarch", "M-2_L001", days_ago(95), archived=True)
    bssh.add_dataset("200", "ds.young", "M-3_L001", days_ago(80))
    bssh.add_dataset("300", "ds.other", "X_L001", days_ago(300))
    bssh.add_run("r6", "20260817_LH00619_0005_B22XYZ12K3", days_ago(100))
    bssh.add_run("r-foreign", "20250101_LH00001_0001_AXXXXXXXXX", days_ago(300))
    return ica, bssh


def plan_for(ica, bssh, ledger=None, vars=None, paths=(MGI,), protect=None, now=NOW):
    policies = load_policies(list(paths), vars or {})
    ctx = PlanContext(ica, bssh, ledger or Ledger(":memory:"), now)
    return build_plan(policies, ctx, protect)


def by(plan, action=None, policy=None):
    return [a for a in plan.actions if (action is None or a.action == action) and (policy is None or a.policy == policy)]


CLEAN_DESTINATION = textwrap.dedent("""\
    version: 1
    group: mgi
    scope: {ica_projects: [Ken_demos]}
    policies:
      - name: clean-destination
        description: Delete old data of the destination project.
        resource: ica.data
        project: Ken_demos
        filters: [{age: {field: timeCreated, older_than: 100d}}]
        actions: [delete]
        allow_destructive: true
    """)
