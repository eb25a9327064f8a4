"""Applier and executors on in-memory fakes: order, isolation of failures, staleness, safety, ledger."""

from __future__ import annotations

import csv
import io

from engine_fakes import NOW, api_error, data
from orch.engine.applier import Applier
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.limits import Protect
from orch.engine.plan import Outcome, Plan
from orch.policy.loader import load_policies
from mgi_world import CLEAN_DESTINATION, DST, MGI, SRC, by, days_ago, mgi_world, plan_for


def allows() -> dict[str, bool]:
    return {p.name: p.allow_destructive for p in load_policies([MGI]).policies}


def run(plan: Plan, ica, bssh, ledger=None, protect=None, allow=None):
    ledger = ledger or Ledger(":memory:")
    ctx = ApplyContext(ica, bssh, ledger, NOW)
    seen: list[str] = []
    report = Applier(ctx, protect=protect, allows=allows() if allow is None else allow,
                     on_result=lambda r: seen.append(r.action.id)).apply(plan)
    return report, ledger, seen


def outcomes(report) -> dict[tuple[str, str], str]:
    return {(r.action.action, r.action.resource.id): r.outcome.value for r in report.results}


def test_apply_everything_then_only_the_second_phase_of_deletes_remains():
    ica, bssh = mgi_world()
    ledger = Ledger(":memory:")
    plan = plan_for(ica, bssh, ledger=ledger).plan
    report, _, seen = run(plan, ica, bssh, ledger)
    assert report.exit_code == 0, report.to_dict()
    # every action ran once, each after everything it depends on (batches may pull a link forward)
    assert sorted(seen) == sorted(a.id for a in plan.actions)
    at = {aid: i for i, aid in enumerate(seen)}
    assert all(at[d] < at[a.id] for a in plan.actions for d in a.depends_on)
    assert any(a.depends_on for a in plan.actions)  # the order check is not vacuous
    assert ledger.is_managed("a1")
    # links landed in the destination, the manifest holds the rows, BaseSpace got one bulk restore
    assert (DST, "fil.a1.0") in ica.items and (DST, "fil.a1.1") in ica.items
    [manifest_bytes] = ica.uploads.values()
    rows = list(csv.reader(io.StringIO(manifest_bytes.decode())))
    assert rows[0] == ["file_name", "file_path", "data_id", "project_id"] and len(rows) == 3
    assert ica.calls["link"] == 1 and bssh.calls["restore"] == 1
    again = plan_for(ica, bssh, ledger=ledger).plan
    # only the second phase of the two-phase delete remains (this fake restores at once; ICA's
    # UNARCHIVING folder is in transit and left alone)
    assert [(a.action, a.resource.id) for a in again.actions] == [("delete", "ds.oldarch")]
    assert again.errors == []
    # the audit log has one row per action
    assert len(ledger.history(100)) == len(plan.actions)


def test_one_failure_leaves_the_others_done_and_its_dependants_not_run():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    [manifest] = by(plan, "manifest")
    ica.fail["create_file"] = api_error("POST createFile", 500)
    report, ledger, _ = run(plan, ica, bssh)
    got = outcomes(report)
    assert got[("manifest", "a1")] == "failed"
    assert got[("mark_managed", "a1")] == "not-run"  # its dependency failed
    assert not ledger.is_managed("a1")  # never recorded: the hand-off is retried next run
    assert got[("link", "fil.a1.0")] == "done"
    assert got[("delete", "fol.a2")] == "done"
    assert report.exit_code == 1
    assert sum(1 for r in report.results if r.outcome == Outcome.DONE) == len(plan.actions) - 2


def test_stale_resource_is_refused():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    ica._set_status(SRC, "fol.a3", "ARCHIVED")  # someone archived it meanwhile
    ica._set_status(SRC, "fol.a2", "ARCHIVED")
    bssh.add_dataset("200", "ds.old", "M-1_L001", "2026-01-01T00:00:00Z")  # DateCreated changed
    report, _, _ = run(plan, ica, bssh)
    got = outcomes(report)
    assert got[("archive", "fol.a3")] == "skipped"  # already archived = already done
    assert got[("delete", "fol.a2")] == "refused-stale"  # AVAILABLE when planned, ARCHIVED now
    assert got[("delete", "ds.old")] == "refused-stale"
    assert ica.calls["delete"] == 0 and bssh.calls["delete_dataset"] == 0
    assert report.exit_code == 1


def test_archived_data_is_never_deleted_in_one_step_whatever_the_plan_says():
    """A plan whose snapshot and fingerprint fields were edited to say ARCHIVED data is AVAILABLE..."""
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    ica._set_status(SRC, "fol.a2", "ARCHIVED")
    [delete] = [a for a in plan.actions if (a.action, a.resource.id) == ("delete", "fol.a2")]
    delete.fingerprint_fields = []
    delete.resource.extra["status"] = "ARCHIVED"  # ...or that lost its snapshot: the executor still refuses
    report, _, _ = run(plan, ica, bssh)
    [r] = [r for r in report.results if r.action is delete]
    assert r.outcome == Outcome.REFUSED_STALE and "ARCHIVED; delete needs it AVAILABLE" in r.message
    assert ica.calls["delete"] == 0


def test_destructive_actions_need_an_allowing_policy():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    allow = {name: False for name in allows()}
    report, _, _ = run(plan, ica, bssh, allow=allow)
    for r in report.results:
        if r.action.destructive:
            assert r.outcome == Outcome.REFUSED and "allow_destructive" in r.message
    assert ica.calls["delete"] == 0 and ica.calls["unarchive"] == 0 and bssh.calls["delete_dataset"] == 0
    assert outcomes(report)[("archive", "fol.a3")] == "done"


def test_protect_list_refuses_at_apply_time():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    report, _, _ = run(plan, ica, bssh, protect=Protect(ids=["fol.a2"]))
    assert outcomes(report)[("delete", "fol.a2")] == "refused"
    assert ica.calls["delete"] == 0


def test_folder_action_refused_when_its_contents_are_protected_or_cannot_be_listed():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    ica.add(data(SRC, "/ilmn-analyses/RUN_FAILED_OLD/output/keep.bam", "fil.keep"))  # after the plan
    ica.fail["list_data"] = api_error("GET data")  # every listing fails: no folder can be checked
    report, _, _ = run(plan, ica, bssh, protect=Protect(names=["*.cram"]))
    got = outcomes(report)
    assert got[("delete", "fol.a2")] == got[("archive", "fol.a3")] == "refused"
    assert "cannot list the folder" in next(r.message for r in report.results if r.action.resource.id == "fol.a2")
    del ica.fail["list_data"]
    report, _, _ = run(plan, ica, bssh, protect=Protect(names=["*.bam"]))
    got = outcomes(report)
    assert got[("delete", "fol.a2")] == "refused" and got[("archive", "fol.a3")] == "done"
    assert ica.calls["delete"] == 0


def test_reapplying_the_same_plan_does_nothing_twice():
    ica, bssh = mgi_world()
    ledger = Ledger(":memory:")
    plan = plan_for(ica, bssh, ledger=ledger).plan
    run(plan, ica, bssh, ledger)
    calls = (ica.calls["link"], ica.calls["create_file"], ica.calls["delete"], bssh.calls["delete_dataset"])
    report, _, _ = run(plan, ica, bssh, ledger)
    assert all(r.outcome in (Outcome.SKIPPED,) for r in report.results), report.to_dict()
    assert (ica.calls["link"], ica.calls["create_file"], ica.calls["delete"], bssh.calls["delete_dataset"]) == calls


def test_existing_manifest_at_apply_time_is_skipped_not_overwritten():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    [manifest] = by(plan, "manifest")
    ica.add(data(DST, manifest.params["path"], "fil.someone-elses"))
    report, ledger, _ = run(plan, ica, bssh)
    assert outcomes(report)[("manifest", "a1")] == "skipped"
    assert "fil.someone-elses" not in ica.uploads
    assert outcomes(report)[("mark_managed", "a1")] == "done" and ledger.is_managed("a1")


def test_link_batch_failure_fails_only_links():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    ica.fail["link"] = api_error("POST dataLinkingBatch", 503)
    report, _, _ = run(plan, ica, bssh)
    got = outcomes(report)
    assert got[("link", "fil.a1.0")] == "failed" and got[("link", "fil.a1.1")] == "failed"
    assert got[("manifest", "a1")] == "not-run" and got[("mark_managed", "a1")] == "not-run"
    assert got[("archive", "fol.a3")] == "done"


def test_trash_is_emptied_once_not_on_a_rerun_that_deleted_nothing():
    ica, bssh = mgi_world()
    ledger = Ledger(":memory:")
    plan = plan_for(ica, bssh, ledger=ledger, vars={"empty_trash": "true"}).plan
    assert by(plan, "purge_trash")
    run(plan, ica, bssh, ledger)
    assert bssh.trash_emptied == 1
    report, _, _ = run(plan, ica, bssh, ledger)  # the same saved plan again: every delete is already done
    assert outcomes(report)[("purge_trash", "trash")] == "skipped"
    assert bssh.trash_emptied == 1


def test_basespace_restore_in_flight_is_remembered_not_repeated():
    """Real BaseSpace shows no restore in progress: the ledger remembers what orch requested."""
    from datetime import timedelta

    ica, bssh = mgi_world()
    bssh.instant = False
    ledger = Ledger(":memory:")
    plan = plan_for(ica, bssh, ledger=ledger).plan
    assert ("unarchive", "ds.oldarch") in {(a.action, a.resource.id) for a in plan.actions}
    run(plan, ica, bssh, ledger)
    assert bssh.calls["restore"] == 1
    again = plan_for(ica, bssh, ledger=ledger)
    assert "ds.oldarch" not in {a.resource.id for a in again.plan.actions}  # still archived, but requested
    assert any("restore requested by orch" in n for n in again.notes)
    # a request older than the 48 h window is retried
    fresh = Ledger(":memory:")
    [first] = [a for a in plan.actions if a.resource.id == "ds.oldarch"]
    fresh.record_raw(action_id=first.id, policy=first.policy, action="unarchive", resource_kind="bssh.dataset",
                 resource_id="ds.oldarch", outcome="done", when=NOW - timedelta(hours=49))
    assert "ds.oldarch" in {a.resource.id for a in plan_for(ica, bssh, ledger=fresh).plan.actions}
    # the window is counted in the run's clock (--now), the clock the applier records in
    recent = Ledger(":memory:")
    recent.record_raw(action_id=first.id, policy=first.policy, action="unarchive", resource_kind="bssh.dataset",
                  resource_id="ds.oldarch", outcome="done", when=NOW - timedelta(hours=47))
    assert "ds.oldarch" not in {a.resource.id for a in plan_for(ica, bssh, ledger=recent).plan.actions}


def test_basespace_memory_uses_the_latest_request():
    """An archive followed by a restore that has completed is not 'archiving': the delete goes ahead;
    the other order (restore, then archive still in flight) holds the delete back."""
    from datetime import timedelta

    ica, bssh = mgi_world()
    assert ("delete", "ds.old") in {(a.action, a.resource.id) for a in plan_for(ica, bssh).plan.actions}

    def ledger_with(*actions: str) -> Ledger:
        ledger = Ledger(":memory:")
        for hours, action in zip((10, 5), actions):
            ledger.record_raw(action_id=f"x{hours}", policy="p", action=action, resource_kind="bssh.dataset",
                          resource_id="ds.old", outcome="done", when=NOW - timedelta(hours=hours))
        return ledger

    restored = plan_for(ica, bssh, ledger=ledger_with("archive", "unarchive"))
    assert ("delete", "ds.old") in {(a.action, a.resource.id) for a in restored.plan.actions}
    archiving = plan_for(ica, bssh, ledger=ledger_with("unarchive", "archive"))
    assert "ds.old" not in {a.resource.id for a in archiving.plan.actions}
    assert any("archive requested by orch" in n for n in archiving.notes)


def test_delete_through_a_link_is_refused_at_apply(tmp_path):
    ica, bssh = mgi_world()
    ica.add(data(DST, "/old.fastq.gz", "fil.old", created=days_ago(200)))
    policy = tmp_path / "dst.yaml"
    policy.write_text(CLEAN_DESTINATION)
    plan = plan_for(ica, bssh, paths=(str(policy),)).plan
    assert [(a.action, a.resource.id) for a in plan.actions] == [("delete", "fil.old")]
    # by apply time the same id is seen as linked in (e.g. a hand-edited plan or a moved project)
    ica.add(data(DST, "/old.fastq.gz", "fil.old", created=days_ago(200), owning=SRC))
    report, _, _ = run(plan, ica, bssh, allow={"clean-destination": True})
    [r] = report.results
    assert r.outcome == Outcome.REFUSED and "linked in from project p-src" in r.message
    assert ica.calls["delete"] == 0
