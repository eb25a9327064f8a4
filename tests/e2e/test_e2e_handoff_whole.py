"""A hand-off is whole or not at all: when its manifest cannot be planned (a name that is not a file
name), no link, manifest or ledger record is planned for the
analysis and the plan says why (exit 1), so a later run can still hand it off. Found by review: the
analysis used to be recorded as handed off without its manifest, and never looked at again."""

from __future__ import annotations

from e2e_helpers import Cli, data_of, every_kind_world
from orch.engine.ledger import Ledger

A_ID = "a0000000-0000-4000-8000-00000000000a"


def _only_handoff_world(reference=None):
    w = every_kind_world()
    src = w["ica"]["projects"][0]
    src["analyses"] = [a for a in src["analyses"] if a["id"] == A_ID]
    if reference is not None:
        src["analyses"][0]["reference"] = reference
    w["basespace"]["runs"] = []
    return w


def _handoff_state(cli, tmp_path):
    with Ledger(tmp_path / "state.db") as led:
        managed = led.is_managed(A_ID)
    dest = data_of(cli.state(), "Ken_demos")
    return managed, [p for p in dest if p.startswith("/fastq_manifests/")], [p for p in dest if p.endswith(".fastq.gz")]


def test_a_manifest_that_cannot_be_named_holds_the_whole_hand_off_back(make_sandbox, tmp_path):
    sb = make_sandbox(_only_handoff_world(reference="RUN_A/rerun-BclConvert_v4_1_23-a0000000"))
    cli = Cli(sb, tmp_path)
    plan = cli.plan()
    assert plan.code == 1
    assert not [a for a in plan.json()["actions"] if a["policy"] == "handoff-mgi-fastqs"]
    assert "is not a file name; the hand-off of analysis RUN_A is held back" in plan.stderr
    res = cli.apply()
    assert res.code == 1
    assert _handoff_state(cli, tmp_path) == (False, [], [])
