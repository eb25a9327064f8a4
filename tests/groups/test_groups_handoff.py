"""Two groups with hand-off policies on one source project (issue 10.1): applied separately in
either order, or loaded together in one run, each gets exactly its own links, manifests and
ledger records — a second group's `not: managed` + mark_managed no longer hides the first's."""

from __future__ import annotations

import pytest
from groups_helpers import RUN_A, SMITH, received, records, world, write

from e2e_helpers import MGI, Cli

X_FILE = "/ilmn-analyses/RUN_A/output/Samples/X-2_S2_L001_R1_001.fastq.gz"


def outcome(cli: Cli):
    return received(cli, "Ken_demos"), received(cli, "Smith_lab"), records(cli)


@pytest.fixture
def run(make_sandbox, tmp_path):
    """Apply the given policy-file lists in turn on a fresh sandbox; what each group ended up with."""
    def go(*steps: list[str]):
        sb = make_sandbox(world())
        workdir = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        workdir.mkdir()
        cli = Cli(sb, workdir)
        smith = write(workdir, "smith.yaml", SMITH)
        files = {"mgi": MGI, "smith": smith}
        for step in steps:
            args = [x for name in step for x in ("-p", files[name])]
            res = cli.run("apply", *args, *cli.common(), "--yes")
            assert res.code == 0, res.stdout + res.stderr
        plan = cli.run("plan", "-p", MGI, "-p", smith, *cli.common(), "--format", "json").json()
        return cli, outcome(cli), plan
    return go


def test_each_group_gets_exactly_its_own_hand_off_in_any_order_or_together(run):
    cli, mgi_first, plan_a = run(["mgi"], ["smith"])
    _, smith_first, plan_b = run(["smith"], ["mgi"])
    _, together, plan_c = run(["mgi", "smith"])
    ken, smith, recs = mgi_first
    # MGI: its three M- files and its manifest; smith: its X- file and its manifest; nothing crossed over
    assert len(ken["links"]) == 3 and all("/M-" in p for p in ken["links"]), ken
    assert smith["links"] == [X_FILE]
    assert [p.rsplit("/", 1)[0] for p in ken["manifests"]] == ["/fastq_manifests"]
    assert [p.rsplit("/", 1)[0] for p in smith["manifests"]] == ["/smith_manifests"]
    assert [row[0] for row in next(iter(smith["manifests"].values()))[1:]] == ["X-2_S2_L001_R1_001.fastq.gz"]
    assert ("smith", "handoff-smith", RUN_A) in recs and ("mgi", "handoff-mgi-fastqs", RUN_A) in recs
    assert {g for g, _, _ in recs} == {"mgi", "smith"}
    assert mgi_first == smith_first == together
    for plan in (plan_a, plan_b, plan_c):  # nothing left to hand off for either group
        assert not [a for a in plan["actions"] if a["action"] in ("link", "manifest", "mark_managed")]


def test_another_groups_record_no_longer_hides_a_hand_off(make_sandbox, tmp_path):
    """The issue's reproduction: smith applied alone first; MGI's plan still hands RUN_A off."""
    cli = Cli(make_sandbox(world()), tmp_path)
    smith = write(tmp_path, "smith.yaml", SMITH)
    assert cli.apply(policy=smith).code == 0
    plan = cli.plan().json()
    mine = {(a["action"], a["resource"]["id"]) for a in plan["actions"] if a["policy"] == "handoff-mgi-fastqs"}
    assert ("mark_managed", RUN_A) in mine and sum(1 for a, _ in mine if a == "link") == 3


@pytest.mark.parametrize("by, planned", [("any", False), ("smith", False), ("mgi", True), ("jones", True)])
def test_managed_by_names_whose_record_counts(make_sandbox, tmp_path, by, planned):
    cli = Cli(make_sandbox(world()), tmp_path)
    assert cli.apply(policy=write(tmp_path, "smith.yaml", SMITH)).code == 0
    other = SMITH.replace("group: smith", "group: jones").replace("handoff-smith", "handoff-jones") \
        .replace("not: managed", f"not: {{managed: {{by: {by}}}}}")
    plan = cli.plan(policy=write(tmp_path, "jones.yaml", other)).json()
    marks = [a for a in plan["actions"] if a["action"] == "mark_managed" and a["resource"]["id"] == RUN_A]
    assert bool(marks) == planned, plan["actions"]
