"""Cross-group safety (issue 10.2): a protect entry of any loaded group holds for every group; an
archive or delete by one group of data another group hands off in the same plan waits for it;
run separately on one state file, a lifecycle policy leaves alone what another group handed off
within the cross-group hold, with a note naming that group."""

from __future__ import annotations

from datetime import timedelta

from groups_helpers import SMITH, world, write

from e2e_helpers import MGI, NOW, Cli

RUN_A_OUT = "/ilmn-analyses/RUN_A/output/"

#: group jones cleans up every output folder of analyses older than a day (a deliberately broad rule)
JONES = """
version: 1
group: jones
vars:
  cross_group_hold_days: {default: 30, min: 0}
scope:
  ica_projects: [ken_debug]
policies:
  - name: purge-outputs
    description: Delete output folders of analyses older than a day.
    resource: ica.data
    from:
      analyses:
        project: ken_debug
        filters: [{age: {field: startDate, older_than: 1d}}]
      via: output_folder
    filters: [{status: AVAILABLE}]
    actions: [delete]
    allow_destructive: true
"""


def folder_actions(plan, path=RUN_A_OUT):
    return [(a["policy"], a["action"]) for a in plan["actions"] if a["resource"].get("path") == path]


def test_a_protect_entry_of_one_group_holds_for_every_loaded_group(make_sandbox, tmp_path):
    cli = Cli(make_sandbox(world()), tmp_path)
    # smith protects the X- file and RUN_C's outputs; MGI would archive RUN_C's folder
    guarded = SMITH.replace("policies:", "protect:\n  paths: [/ilmn-analyses/RUN_C/]\npolicies:", 1)
    smith = write(tmp_path, "smith.yaml", guarded)
    alone = cli.plan().json()
    assert folder_actions(alone, "/ilmn-analyses/RUN_C/output/") == [("archive-ica-outputs", "archive")]
    res = cli.plan(extra=("-p", smith))
    both = res.json()
    assert folder_actions(both, "/ilmn-analyses/RUN_C/output/") == []
    assert "archive of ica.data /ilmn-analyses/RUN_C/output/ not planned" in res.stderr + res.stdout
    assert {a["policy"] for a in both["actions"]} >= {"handoff-mgi-fastqs", "handoff-smith"}


def test_a_delete_of_another_groups_hand_off_in_the_same_plan_waits_for_it(make_sandbox, tmp_path):
    cli = Cli(make_sandbox(world()), tmp_path)
    jones = write(tmp_path, "jones.yaml", JONES.replace("cross_group_hold_days: {default: 30",
                                                        "cross_group_hold_days: {default: 0"))
    plan = cli.plan(policy=jones, extra=("-p", write(tmp_path, "smith.yaml", SMITH))).json()
    [delete] = [a for a in plan["actions"] if a["action"] == "delete" and a["resource"].get("path") == RUN_A_OUT]
    smith_link = [a["id"] for a in plan["actions"] if a["policy"] == "handoff-smith" and a["action"] == "link"]
    assert smith_link and set(smith_link) <= set(delete["depends_on"])


def test_run_separately_a_recent_hand_off_of_another_group_is_left_alone(make_sandbox, tmp_path):
    cli = Cli(make_sandbox(world()), tmp_path)
    jones = write(tmp_path, "jones.yaml", JONES)
    before = cli.plan(policy=jones).json()
    assert ("purge-outputs", "delete") in folder_actions(before)  # nobody handed RUN_A off yet
    assert cli.apply(policy=write(tmp_path, "smith.yaml", SMITH)).code == 0  # smith's own cron line
    res = cli.run("plan", "-p", jones, *cli.common(), "--format", "json")
    plan = res.json()
    assert folder_actions(plan) == []
    assert f"group smith handed analysis RUN_A off on {NOW:%Y-%m-%d} (handoff-smith), within the 30-day " \
           f"cross-group hold" in res.stderr + res.stdout
    others = {a["resource"]["path"] for a in plan["actions"]}
    assert others == {a["resource"]["path"] for a in before["actions"]} - {RUN_A_OUT}  # the rest goes ahead
    # past the hold (or with a shorter one) the delete is planned again
    later = cli.plan(policy=jones, now=NOW + timedelta(days=31)).json()
    assert ("purge-outputs", "delete") in folder_actions(later)
    shorter = cli.plan("cross_group_hold_days=5", policy=jones, now=NOW + timedelta(days=6)).json()
    assert ("purge-outputs", "delete") in folder_actions(shorter)
    # the group's own hand-off does not hold its own lifecycle back
    own = write(tmp_path, "own.yaml", JONES.replace("group: jones", "group: smith"))
    assert ("purge-outputs", "delete") in folder_actions(cli.plan(policy=own).json())
