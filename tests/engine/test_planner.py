"""Planner unit tests on in-memory fakes of the platforms (end to end: tests/e2e/)."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from engine_fakes import NOW, FakeIca, analysis, api_error, data
from orch.engine.context import PlanContext, run_folder
from orch.engine.ledger import Ledger
from orch.engine.limits import Protect
from orch.engine.manifest import render_manifest
from orch.engine.planner import build_plan
from orch.policy.loader import load_policies
from mgi_world import CLEAN_DESTINATION, DST, MGI, SRC, by, days_ago, mgi_world, plan_for

def test_run_folder_from_user_reference():
    assert run_folder("20260801_LH00619_0013_B22CCFJLT4") == "20260801_LH00619_0013_B22CCFJLT4"
    assert run_folder("261114_A01536_0088_AHXXKJDSX7_rerun") == "261114_A01536_0088_AHXXKJDSX7"
    assert run_folder("RUN_A") is None


def test_handoff_links_manifest_and_mark_managed_with_dependencies():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    links = by(plan, "link")
    assert sorted(a.resource.name for a in links) == ["M-1_S1_L001_R1_001.fastq.gz", "M_2_S2_L001_R1_001.fastq.gz"]
    assert all(a.params == {"to_project": "Ken_demos", "to_project_id": DST} for a in links)
    [manifest] = by(plan, "manifest")
    assert manifest.resource.id == "a1"
    assert manifest.params["path"] == f"/fastq_manifests/{ica.analyses[SRC][0].reference}.download_manifest.csv"
    assert manifest.params["rows"] == 2
    assert set(manifest.depends_on) == {a.id for a in links}
    managed = {a.resource.id: a for a in by(plan, "mark_managed")}
    assert set(managed) == {"a1"}  # a7 running, a8 not BCLConvert; the rest too old
    assert set(managed["a1"].depends_on) == {a.id for a in links} | {manifest.id}
    # the manifest lists exactly the linked files, sorted by path, with the destination project
    text = render_manifest(manifest.params).decode()
    lines = text.splitlines()
    assert lines[0] == "file_name,file_path,data_id,project_id"
    assert [ln.split(",")[0] for ln in lines[1:]] == ["M-1_S1_L001_R1_001.fastq.gz", "M_2_S2_L001_R1_001.fastq.gz"]
    assert all(ln.endswith("," + DST) for ln in lines[1:])


def test_lifecycle_decisions_and_two_phase_delete():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    got = {(a.policy, a.action, a.resource.id, a.params.get("then")) for a in plan.actions
           if a.policy != "handoff-mgi-fastqs"}
    assert got == {
        ("delete-ica-outputs", "delete", "fol.a2", None),
        ("archive-ica-outputs", "archive", "fol.a3", None),
        ("delete-ica-outputs", "unarchive", "fol.a4", "delete"),  # archived: first phase only
        ("delete-basespace-datasets", "delete", "ds.old", None),
        ("delete-basespace-datasets", "unarchive", "ds.oldarch", "delete"),
        ("delete-basespace-runs", "delete", "r6", None),
        # 80 d old, in a project named by a delete-window analysis: its own age decides (contracts 4.2)
        ("archive-basespace-datasets", "archive", "ds.young", None),
    }  # fol.a5 is ARCHIVING (in transit), ds.other and r-foreign are not related


def test_empty_trash_after_basespace_deletes_only():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh, vars={"empty_trash": "true"}).plan
    [purge] = by(plan, "purge_trash")
    deletes = {a.id for a in plan.actions if a.action == "delete" and a.resource.kind.startswith("bssh.")}
    assert set(purge.depends_on) == deletes and len(deletes) == 2
    order = [a.id for a in plan.actions]
    assert all(order.index(d) < order.index(purge.id) for d in deletes)  # after every BaseSpace delete
    # no BaseSpace delete → no purge
    ica, bssh = mgi_world()
    del bssh.datasets["ds.old"]
    del bssh.runs["r6"]
    assert not by(plan_for(ica, bssh, vars={"empty_trash": "true"}).plan, "purge_trash")


def test_bssh_runs_all_reaches_unrelated_runs():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh, vars={"bssh_runs": "all"}).plan
    assert {a.resource.id for a in by(plan, "delete") if a.resource.kind == "bssh.run"} == {"r6", "r-foreign"}


def test_already_linked_manifest_present_and_managed_are_detected():
    ica, bssh = mgi_world()
    first = plan_for(ica, bssh).plan
    [manifest] = by(first, "manifest")
    # one file already linked, the manifest already written
    src = ica.items[(SRC, "fil.a1.0")]
    ica.add(data(DST, src.path, src.id, owning=SRC))
    ica.add(data(DST, manifest.params["path"], "fil.manifest"))
    plan = plan_for(ica, bssh).plan
    assert [a.resource.id for a in by(plan, "link")] == ["fil.a1.1"]
    assert not by(plan, "manifest")
    assert by(plan, "mark_managed")[0].depends_on == [by(plan, "link")[0].id]
    # once in the ledger, nothing is handed off again
    ledger = Ledger(":memory:")
    ledger.mark_managed("a1", "ref", "handoff-mgi-fastqs")
    assert not by(plan_for(ica, bssh, ledger=ledger).plan, policy="handoff-mgi-fastqs")


def test_partial_manifest_is_completed_not_skipped():
    ica, bssh = mgi_world()
    [manifest] = by(plan_for(ica, bssh).plan, "manifest")
    ica.add(data(DST, manifest.params["path"], "fil.partial", status="PARTIAL"))
    assert len(by(plan_for(ica, bssh).plan, "manifest")) == 1


def test_analysis_without_mgi_file_is_only_marked_managed():
    ica, bssh = mgi_world()
    for key in [k for k in ica.items if k[1].startswith("fil.a1.") and k[1] != "fil.a1.bssh"]:
        if ica.items[key].name.startswith("M"):
            del ica.items[key]
    plan = plan_for(ica, bssh).plan
    handoff = by(plan, policy="handoff-mgi-fastqs")
    assert [(a.action, a.resource.id, a.depends_on) for a in handoff] == [("mark_managed", "a1", [])]


def test_conflict_delete_beats_archive_and_same_action_once(tmp_path):
    ica, bssh = mgi_world()
    extra = tmp_path / "extra.yaml"
    extra.write_text(textwrap.dedent("""\
        version: 1
        group: other
        scope: {ica_projects: [ken_debug]}
        policies:
          - name: archive-everything-old
            description: Archive every old output folder.
            resource: ica.data
            from: {analyses: {project: ken_debug}, via: output_folder}
            filters: [status: AVAILABLE]
            actions: [archive]
          - name: delete-failed-too
            description: Delete failed analyses' outputs.
            resource: ica.data
            from: {analyses: {project: ken_debug, filters: [status: FAILED]}, via: output_folder}
            actions: [delete]
            allow_destructive: true
        """))
    plan = plan_for(ica, bssh, paths=(MGI, str(extra))).plan
    on_a2 = [a for a in plan.actions if a.resource.id == "fol.a2"]
    assert len(on_a2) == 1 and on_a2[0].action == "delete"
    assert on_a2[0].policy == "delete-ica-outputs"  # first of the equal deletes, by load order
    assert on_a2[0].won_over == ["archive-everything-old", "delete-failed-too"]
    on_a3 = [a for a in plan.actions if a.resource.id == "fol.a3"]
    assert len(on_a3) == 1 and on_a3[0].won_over == ["archive-everything-old"]


def test_fail_closed_when_bsshoutput_cannot_be_read():
    ica, bssh = mgi_world()
    ica.fail["read_bytes:fil.a6.bssh"] = api_error("POST createDownloadUrl", 503)
    plan = plan_for(ica, bssh).plan
    # which BaseSpace projects a6 names is unknown: the dataset policy plans nothing and says why
    assert not by(plan, policy="delete-basespace-datasets")
    [err] = [e for e in plan.errors if e.policy == "delete-basespace-datasets"]
    assert "bsshoutput.json" in err.message and "failing closed" in err.message
    assert plan.exit_code() == 1
    # that the file exists is known, so a6 is still BaseSpace-managed and the ICA lifecycle goes on
    assert {a.resource.id for a in by(plan, policy="delete-ica-outputs")} == {"fol.a2", "fol.a4"}
    assert "fol.a6" not in {a.resource.id for a in plan.actions}
    assert by(plan, "link")  # the hand-off does not depend on that read


def test_fail_closed_when_a_listing_fails():
    ica, bssh = mgi_world()
    bssh.fail["list_datasets"] = api_error("GET datasets")
    plan = plan_for(ica, bssh).plan
    assert not by(plan, policy="delete-basespace-datasets")
    assert any(e.policy == "delete-basespace-datasets" and "failing closed" in e.message for e in plan.errors)


def test_max_resources_fails_the_policy_loudly(tmp_path):
    text = Path(MGI).read_text().replace(
        '    max_resources: {count: "{{ max_deletes }}"}\n    allow_destructive: true\n\n  # 2b.',
        '    max_resources: {count: "{{ max_deletes }}", percent: 50}\n    allow_destructive: true\n\n  # 2b.')
    assert "percent: 50" in text
    path = tmp_path / "mgi.yaml"
    path.write_text(text)
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh, paths=(str(path),)).plan  # 2 of 3 datasets = 67% > 50%
    assert not by(plan, policy="delete-basespace-datasets")
    [err] = [e for e in plan.errors if e.policy == "delete-basespace-datasets"]
    assert "2 of 3" in err.message and "50%" in err.message
    assert by(plan, policy="delete-ica-outputs")  # other policies are unaffected


def test_protected_resources_are_never_planned():
    ica, bssh = mgi_world()
    protect = Protect(paths=["/ilmn-analyses/RUN_FAILED_OLD/"], ids=["ds.old"], names=["M_2_*"])
    outcome = plan_for(ica, bssh, protect=protect)
    ids = {a.resource.id for a in outcome.plan.actions}
    assert not ids & {"fol.a2", "ds.old", "fil.a1.1"}
    # fil.a1.1 (M_2_...) is protected: analysis a1's hand-off is held back whole
    assert not ids & {"fil.a1.0", "a1"}
    assert any("held back" in n for n in outcome.notes)
    assert any("protect" in n for n in outcome.notes)
    assert "fil.a1.0" in {a.resource.id for a in plan_for(ica, bssh, protect=Protect(ids=["ds.old"])).plan.actions}


def _keep_inside_old_folder(ica: FakeIca, tags=()) -> None:
    """A file deep in RUN_FAILED_OLD's output folder, which the MGI pack deletes by age."""
    keep = data(SRC, "/ilmn-analyses/RUN_FAILED_OLD/output/deep/keep.bam", "fil.keep")
    if tags:
        keep.raw["data"]["details"]["tags"] = {"userTags": list(tags), "technicalTags": []}
    ica.add(keep)


@pytest.mark.parametrize("protect", [Protect(ids=["fil.keep"]), Protect(names=["*.bam"]),
                                     Protect(tags=["legal-hold"])], ids=["id", "name", "tag"])
def test_folder_holding_something_protected_by_name_id_or_tag_is_not_deleted(protect):
    ica, bssh = mgi_world()
    assert ("delete", "fol.a2") in {(a.action, a.resource.id) for a in plan_for(ica, bssh).plan.actions}
    _keep_inside_old_folder(ica, tags=["legal-hold"])
    outcome = plan_for(ica, bssh, protect=protect)
    planned = {(a.action, a.resource.id) for a in outcome.plan.actions}
    assert ("delete", "fol.a2") not in planned
    assert ("archive", "fol.a3") in planned  # other folders (nothing protected inside) go ahead
    [note] = [n for n in outcome.notes if "fol.a2" in n or "RUN_FAILED_OLD/output/ not planned" in n]
    assert "contains /ilmn-analyses/RUN_FAILED_OLD/output/deep/keep.bam, which is protected" in note
    assert not outcome.plan.errors


def test_folder_contents_are_listed_only_when_protect_has_names_ids_or_tags():
    ica, bssh = mgi_world()
    _keep_inside_old_folder(ica)
    plan_for(ica, bssh, protect=Protect(paths=["/elsewhere/"]))
    plain = ica.calls["list_data"]
    ica.calls.clear()
    plan_for(ica, bssh, protect=Protect(ids=["fil.keep"]))
    # one listing per folder action that would otherwise be planned (archive a3, delete a2, unarchive a4)
    assert ica.calls["list_data"] == plain + 3


def test_folder_that_cannot_be_listed_for_the_protect_check_fails_closed():
    class Flaky(FakeIca):
        def list_data(self, project_id, **kw):
            if kw.get("path_prefix") == "/ilmn-analyses/RUN_FAILED_OLD/output/" and not kw.get("data_type"):
                raise api_error("GET data")
            return super().list_data(project_id, **kw)

    ica, bssh = mgi_world()
    flaky = Flaky(**{k: getattr(ica, k) for k in ("projects", "analyses", "outputs", "items", "contents")})
    plan = plan_for(flaky, bssh, protect=Protect(ids=["fil.keep"])).plan
    assert not by(plan, policy="delete-ica-outputs")  # a destructive policy plans nothing
    assert any(e.policy == "delete-ica-outputs" and "failing closed" in e.message for e in plan.errors)
    assert by(plan, "archive")  # other policies go ahead


def test_now_moves_every_age():
    ica, bssh = mgi_world()
    later = plan_for(ica, bssh, now=NOW + timedelta(days=30)).plan
    # a3 (70 d → 100 d) moves from archive to delete; a1 (5 d) is still handed off
    assert {(a.action, a.resource.id) for a in later.actions if a.resource.id == "fol.a3"} == {("delete", "fol.a3")}
    assert by(later, "link")


def test_window_boundaries_are_exact():
    ica, bssh = mgi_world()
    a3 = ica.analyses[SRC][2]
    # exactly 60 days old: not older than 60 d → no archive; one second more → archive
    at = a3.start_date + timedelta(days=60)
    assert not [a for a in plan_for(ica, bssh, now=at).plan.actions if a.resource.id == "fol.a3"]
    assert [a.action for a in plan_for(ica, bssh, now=at + timedelta(seconds=1)).plan.actions
            if a.resource.id == "fol.a3"] == ["archive"]


def test_plan_is_deterministic_and_reads_each_thing_once():
    ica, bssh = mgi_world()
    one = plan_for(ica, bssh).plan
    calls = dict(ica.calls)
    two = plan_for(ica, bssh).plan
    strip = lambda p: {k: v for k, v in p.to_dict().items() if k != "created_at"}  # noqa: E731
    assert json.dumps(strip(one), sort_keys=True) == json.dumps(strip(two), sort_keys=True)
    assert calls["list_analyses"] == 1  # one listing serves every policy
    # only a6's bsshoutput.json: a1 is in no lifecycle window, so whether BaseSpace manages it is never asked
    assert calls["read_bytes"] == 1
    assert calls["find_project"] == 2


def test_bsshoutput_contents_are_cached_in_the_ledger():
    ica, bssh = mgi_world()
    ledger = Ledger(":memory:")
    plan_for(ica, bssh, ledger=ledger)
    before = ica.calls["read_bytes"]
    plan_for(ica, bssh, ledger=ledger)
    assert ica.calls["read_bytes"] == before  # second run: from the ledger cache


def test_disabled_policies_read_nothing(tmp_path):
    """Every MGI policy but the hand-off says ``enabled: false``: BaseSpace is never read."""
    ica, bssh = mgi_world()
    only = tmp_path / "handoff.yaml"
    text = re.sub(r"(?m)^    enabled: .*\n", "", Path(MGI).read_text())
    text, n = re.subn(r"(?m)^(  - name: (?!handoff-mgi-fastqs\b)\S+\n)", r"\1    enabled: false\n", text)
    assert n >= 9  # every policy but the hand-off
    only.write_text(text)
    plan = plan_for(ica, bssh, paths=(str(only),)).plan
    assert {a.policy for a in plan.actions} == {"handoff-mgi-fastqs"}
    assert sum(bssh.calls.values()) == 0  # the disabled BaseSpace policies read nothing


def test_fingerprints_cover_the_decision_fields():
    ica, bssh = mgi_world()
    plan = plan_for(ica, bssh).plan
    [delete] = [a for a in plan.actions if a.resource.id == "fol.a2"]
    assert "status" in delete.fingerprint_fields
    [ds] = [a for a in plan.actions if a.resource.id == "ds.old"]
    assert {"DateCreated", "IsArchived"} <= set(ds.fingerprint_fields)
    assert all(a.reason for a in plan.actions)
    assert "days ago" in ds.reason


@pytest.mark.parametrize("status", ["ARCHIVING", "UNARCHIVING", "DELETING", "PARTIAL"])
def test_in_transit_output_folders_are_left_alone(status):
    ica, bssh = mgi_world()
    ica._set_status(SRC, "fol.a2", status)
    plan = plan_for(ica, bssh).plan
    assert not [a for a in plan.actions if a.resource.id == "fol.a2"]


def test_archiving_data_that_is_handed_off_waits_for_the_hand_off():
    """handoff_max_age_days above days_to_archive: one plan hands off and archives the same folder."""
    ica, bssh = mgi_world()
    del ica.items[(SRC, "fil.a1.bssh")]  # ICA-managed
    outcome = plan_for(ica, bssh, vars={"days_to_archive": "4", "days_to_delete": "200"})  # a1 is 5 d old
    plan = outcome.plan
    [archive] = [a for a in plan.actions if a.resource.id == "fol.a1"]
    # said once (reconcile runs again after the trash step; the note must not repeat)
    assert [n for n in outcome.notes if "runs after this plan hands off" in n] == [
        "archive-ica-outputs: archive of /ilmn-analyses/20261120_LH00619_0021_B22CCFJLT4/output/ runs after this "
        "plan hands off 2 file(s) under it; the links share its storage, so the recipients lose them too (a "
        "hand-off age limit above the archive age does this)"]
    handoff = {a.id for a in by(plan, policy="handoff-mgi-fastqs") if a.resource.id in ("a1", "fil.a1.0", "fil.a1.1")}
    assert handoff and handoff <= set(archive.depends_on)
    order = [a.id for a in plan.actions]
    assert all(order.index(h) < order.index(archive.id) for h in handoff)


def test_fingerprint_ignores_how_a_timestamp_is_spelled():
    from orch.engine.fingerprint import decision_fingerprint

    a = analysis(SRC, "x", "R", start="2026-11-20T09:00:00Z")
    b = analysis(SRC, "x", "R", start="2026-11-20T09:00:00.000+00:00")
    c = analysis(SRC, "x", "R", start="2026-11-20T09:00:01Z")
    fields = ["startDate", "status", "pipeline.code"]
    assert decision_fingerprint(a, fields) == decision_fingerprint(b, fields)
    assert decision_fingerprint(a, fields) != decision_fingerprint(c, fields)


def test_nothing_outside_the_scope_is_planned():
    """Lint keeps policies' projects in scope; the planner checks again at run time (defence in depth)."""
    ica, bssh = mgi_world()
    policies = load_policies([MGI])
    policies.files[0].scope.ica_projects = ["Ken_demos"]  # the source project is no longer in scope
    outcome = build_plan(policies, PlanContext(ica, bssh, Ledger(":memory:"), NOW))
    # nothing from the source project, nor from the BaseSpace projects or runs its analyses lead to
    assert outcome.plan.actions == []
    assert any("outside the scope" in n for n in outcome.notes)


def test_hand_off_waits_while_a_selected_file_is_partial():
    ica, bssh = mgi_world()
    ica._set_status(SRC, "fil.a1.1", "PARTIAL")
    outcome = plan_for(ica, bssh)
    assert not by(outcome.plan, policy="handoff-mgi-fastqs")  # no link, no manifest, not marked managed
    assert any("PARTIAL" in n for n in outcome.notes)


def test_policies_without_from_and_the_tag_and_unarchive_actions(tmp_path):
    ica, bssh = mgi_world()
    extra = tmp_path / "other.yaml"
    extra.write_text(textwrap.dedent("""\
        version: 1
        group: core
        scope: {ica_projects: [ken_debug], bssh_projects: [BS_OTHER]}
        policies:
          - name: archive-old-undetermined
            description: Archive Undetermined FASTQs anywhere in the project.
            resource: ica.data
            project: ken_debug
            filters: [{field: name, glob: 'Undetermined_*.fastq.gz'}]
            actions: [archive]
          - name: tag-failed-analyses
            description: Tag failed analyses for review.
            resource: ica.analysis
            project: ken_debug
            filters: [status: FAILED]
            actions: [{tag: {user_tags: ["review-{{ analysis.userReference }}"]}}]
          - name: restore-qc
            description: Bring archived QC datasets back.
            resource: bssh.dataset
            filters: [{field: IsArchived, eq: true}]
            actions: [unarchive]
        """))
    bssh.add_dataset("300", "ds.other-arch", "QC_L001", days_ago(10), archived=True)
    plan = plan_for(ica, bssh, paths=(str(extra),)).plan
    got = {(a.policy, a.action, a.resource.id, json.dumps(a.params, sort_keys=True)) for a in plan.actions}
    assert got == {
        ("archive-old-undetermined", "archive", "fil.a1.4", "{}"),
        ("tag-failed-analyses", "tag", "a2", '{"user_tags": ["review-RUN_FAILED_OLD"]}'),
        ("restore-qc", "unarchive", "ds.other-arch", "{}"),
    }
    assert not [a for a in plan.actions if a.destructive]


def test_manifest_check_falls_back_to_the_exact_path_when_the_folder_listing_is_refused():
    ica, bssh = mgi_world()
    [manifest] = by(plan_for(ica, bssh).plan, "manifest")
    ica.add(data(DST, manifest.params["path"], "fil.there"))
    real_list = ica.list_data

    def refusing(project_id, **kw):
        if kw.get("parent_folder_path"):
            raise api_error("GET data", 400)
        return real_list(project_id, **kw)

    ica.list_data = refusing
    plan = plan_for(ica, bssh).plan
    assert not by(plan, "manifest") and by(plan, "mark_managed") and plan.errors == []


def test_linked_in_data_is_never_archived_or_deleted_through_the_link(tmp_path):
    """Data linked into a project is its owner's: deleting it there would delete the owner's data."""
    ica, bssh = mgi_world()
    ica.add(data(DST, "/old_own.fastq.gz", "fil.own", created=days_ago(200)))
    ica.add(data(DST, "/old_linked.fastq.gz", "fil.linked", created=days_ago(200), owning=SRC))
    policy = tmp_path / "dst.yaml"
    policy.write_text(CLEAN_DESTINATION)
    outcome = plan_for(ica, bssh, paths=(str(policy),))
    assert {(a.action, a.resource.id) for a in outcome.plan.actions} == {("delete", "fil.own")}
    assert any("/old_linked.fastq.gz not planned: it is linked in from project p-src" in n for n in outcome.notes)
    assert not outcome.plan.errors


def test_hand_off_destination_outside_the_scope_plans_no_ledger_record():
    """Lint refuses it; the planner holds every hand-off of such a policy back anyway (defence in depth)."""
    ica, bssh = mgi_world()
    policies = load_policies([MGI], {})
    policies.files[0].scope.ica_projects.remove("Ken_demos")
    plan = build_plan(policies, PlanContext(ica, bssh, Ledger(":memory:"), NOW)).plan
    assert not by(plan, policy="handoff-mgi-fastqs")
    assert any("destination 'Ken_demos' is outside the scope" in e.message for e in plan.errors)


@pytest.mark.parametrize("how", ["ids", "names", "tags"])
def test_a_protected_analysis_protects_what_is_reached_from_it(how):
    """Found by review: protecting an analysis used to leave its output folder and BaseSpace data to the
    lifecycle policies (the protect list was only compared with the resource acted on)."""
    ica, bssh = mgi_world()
    # a2: ICA-managed, FAILED, 100 days old (its folder is deleted); a6: bsshoutput names BS_OLD, run r6
    shielded = [a for a in ica.analyses[SRC] if a.id in ("a2", "a6")]
    for a in shielded:
        a.raw["tags"] = {"userTags": ["legal-hold"], "technicalTags": []}
    entries = {"ids": [a.id for a in shielded], "names": [a.reference for a in shielded], "tags": ["legal-hold"]}
    protect = Protect.from_mapping({how: entries[how]}, origin="site.yaml")
    reached = {"fol.a2", "ds.old", "ds.oldarch", "ds.young", "r6"}  # ds.young: archived by its own age
    before = {a.resource.id for a in plan_for(ica, bssh).plan.actions}
    assert reached <= before
    outcome = plan_for(ica, bssh, protect=protect)
    after = {a.resource.id for a in outcome.plan.actions}
    assert before - after == reached  # nothing else held back
    assert any("nothing reached from analysis RUN_FAILED_OLD (output_folder) is planned" in n for n in outcome.notes)


def test_max_resources_of_a_for_each_policy_bounds_the_files_it_acts_on(tmp_path):
    """Found by review: the count used to be checked against analyses, so one analysis let 7 deletes through."""
    policy = tmp_path / "purge.yaml"
    policy.write_text(textwrap.dedent("""\
        version: 1
        group: g
        scope: {ica_projects: [ken_debug]}
        policies:
          - name: purge-outputs
            description: Delete the output files of one analysis.
            resource: ica.analysis
            project: ken_debug
            filters: [{field: userReference, eq: "20261120_LH00619_0021_B22CCFJLT4"}]
            for_each:
              outputs:
                filters: [{field: name, regex: "."}]
            actions: [delete]
            max_resources: {count: COUNT}
            allow_destructive: true
        """))
    text = policy.read_text()
    ica, bssh = mgi_world()
    policy.write_text(text.replace("COUNT", "2"))
    plan = plan_for(ica, bssh, paths=(str(policy),)).plan
    assert not plan.actions
    [err] = plan.errors
    assert "acts on 7 files of its 1 analyses, more than its max_resources count of 2" in err.message
    policy.write_text(text.replace("COUNT", "7"))
    assert len(by(plan_for(ica, bssh, paths=(str(policy),)).plan, "delete")) == 7


TWO_HANDOFFS = textwrap.dedent("""\
    version: 1
    group: g
    scope: {ica_projects: [ken_debug, Ken_demos]}
    matchers:
      bclconvert: {field: pipeline.code, regex: '(?i)bcl.*convert'}
    policies:
      - name: handoff-mgi
        description: M files.
        resource: ica.analysis
        project: ken_debug
        filters: [{use: bclconvert}, {status: SUCCEEDED}, {not: managed}]
        for_each:
          outputs: {recursive: true, filters: [{field: name, regex: '^M-1'}]}
        actions:
          - link: {to: Ken_demos}
          - manifest: {to: Ken_demos, folder: /m/, name: "{{ analysis.reference }}.csv",
                       columns: [file_name, file_path, data_id, project_id]}
          - mark_managed
      - name: handoff-phix
        description: PhiX files.
        resource: ica.analysis
        project: ken_debug
        filters: [{use: bclconvert}, {status: SUCCEEDED}, {not: managed}]
        for_each:
          outputs: {recursive: true, filters: [{field: name, regex: '^Phix'}]}
        actions:
          - link: {to: Ken_demos}
          - manifest: {to: Ken_demos, folder: /phix/, name: "{{ analysis.tags.userTags[0] }}.csv",
                       columns: [file_name, file_path, data_id, project_id]}
          - mark_managed
    """)


def test_a_hand_off_held_back_by_one_policy_is_not_recorded_by_another(tmp_path):
    """Found by review: one ledger record per analysis, so another hand-off policy's mark_managed would
    end the held-back hand-off for good (its `not: managed` filter drops the analysis)."""
    p = tmp_path / "two.yaml"
    p.write_text(TWO_HANDOFFS)  # handoff-phix's manifest name cannot render: its hand-off is held back
    ica, bssh = mgi_world()
    outcome = plan_for(ica, bssh, paths=(str(p),))
    assert any("held back" in e.message for e in outcome.plan.errors)
    assert not [a for a in by(outcome.plan, "mark_managed") if a.resource.id == "a1"]
    assert [a.resource.name for a in by(outcome.plan, "link")] == ["M-1_S1_L001_R1_001.fastq.gz"]  # the rest goes on
    assert any("handoff-phix held its hand-off back this run" in n for n in outcome.notes)


def test_only_refuses_to_leave_out_another_policy_that_records_hand_offs(tmp_path):
    from orch.engine.commands import select_policies
    from orch.errors import ConfigError

    p = tmp_path / "two.yaml"
    p.write_text(TWO_HANDOFFS)
    with pytest.raises(ConfigError, match="--only leaves out handoff-phix, which also records analyses"):
        select_policies(load_policies([str(p)], {}), ["handoff-mgi"])
    assert select_policies(load_policies([str(p)], {}), ["handoff-*"])[0].startswith("--only: planning 2 of 2")


def test_a_protected_re_analysis_shields_the_shared_run_and_datasets_of_an_old_one():
    """Found by review: the shield covered only analyses the policy's own filters picked, so a recent,
    protected re-analysis of an old run left the run and its BaseSpace datasets to the old analysis."""
    ica, bssh = mgi_world()
    rerun = analysis(SRC, "pP", "20260817_LH00619_0005_B22XYZ12K3_rerun", start=days_ago(3))
    ica.analyses[SRC].append(rerun)
    root = "/ilmn-analyses/20260817_LH00619_0005_B22XYZ12K3_rerun/output/"
    ica.add(data(SRC, root, "fol.pP"))
    ica.outputs["pP"] = "fol.pP"
    ica.add(data(SRC, root + "Reports/bsshoutput.json", "fil.pP.bssh"),
            json.dumps({"Projects": {"OutputProject": {"Name": "BS_OLD"}}}).encode())
    assert {"ds.old", "ds.oldarch", "r6"} <= {a.resource.id for a in plan_for(ica, bssh).plan.actions}
    outcome = plan_for(ica, bssh, protect=Protect.from_mapping({"ids": ["pP"]}, origin="site.yaml"))
    assert not {"ds.old", "ds.oldarch", "r6"} & {a.resource.id for a in outcome.plan.actions}
    assert any("not considered: protected analysis 20260817_LH00619_0005_B22XYZ12K3_rerun reaches it too" in n
               for n in outcome.notes)
    assert not outcome.plan.errors


TAG_FOR_EACH = textwrap.dedent("""\
    version: 1
    group: core
    scope: {ica_projects: [ken_debug]}
    policies:
      - name: tag-handoffs
        description: Tag what a hand-off would select.
        resource: ica.analysis
        project: ken_debug
        filters: [status: SUCCEEDED]
        for_each: {outputs: {filters: [{field: name, regex: '^M[-_]'}]}}
        actions: [{tag: {user_tags: [seen]ON}}]
    """)


@pytest.mark.parametrize("on, kinds", [("", {"ica.analysis"}), (", target: analysis", {"ica.analysis"}),
                                       (", target: files", {"ica.data"})])
def test_tag_in_a_for_each_policy_acts_on_one_thing_said_by_target(tmp_path, on, kinds):
    """Review P4: without ``target`` the analysis is tagged, whether or not for_each selected files of it."""
    ica, bssh = mgi_world()
    path = tmp_path / "tag.yaml"
    path.write_text(TAG_FOR_EACH.replace("ON", on))
    plan = plan_for(ica, bssh, paths=(str(path),)).plan
    assert plan.actions and not plan.errors
    assert {a.resource.kind for a in plan.actions} == kinds
    tagged = {a.resource.id for a in plan.actions}
    if kinds == {"ica.data"}:  # the MGI files of a1 and a8 only; analyses without such files: nothing
        assert tagged == {"fil.a1.0", "fil.a1.1", "fil.a1.5", "fil.a8.0"}  # not m-3 (case-sensitive)
    else:  # every SUCCEEDED analysis, those with selected files (a1, a8) included
        assert {"a1", "a8", "a3"} <= tagged


@pytest.mark.parametrize("text, message", [
    (TAG_FOR_EACH.replace("ON", ", target: files").replace(
        "    for_each: {outputs: {filters: [{field: name, regex: '^M[-_]'}]}}\n", ""),
     "tag target: files tags the files for_each selects: the policy needs for_each"),
    (TAG_FOR_EACH.replace("ON", ", target: analysis").replace("resource: ica.analysis", "resource: ica.data").replace(
        "    for_each: {outputs: {filters: [{field: name, regex: '^M[-_]'}]}}\n", "").replace(
        "filters: [status: SUCCEEDED]", "filters: []"),
     "tag target: analysis is for ica.analysis policies; a ica.data policy tags its own resources"),
])
def test_tag_target_is_checked_at_lint(tmp_path, text, message):
    from orch.policy.lint import lint_paths

    path = tmp_path / "tag.yaml"
    path.write_text(text)
    [problem] = lint_paths([str(path)])
    assert problem.message == message and problem.line == 10  # the actions line (for_each removed)


def test_status_on_a_basespace_run_fingerprints_its_Status_field(tmp_path):
    """Review P15: the status matcher reads ``Status`` on bssh.run, so that is the field fingerprinted."""
    from orch.matchers.analysis import StatusMatcher, StatusParams

    m = StatusMatcher(StatusParams(("Complete",)))
    assert m.fields("bssh.run") == {"Status"} and m.fields("ica.analysis") == {"status"}
    ica, bssh = mgi_world()
    path = tmp_path / "runs.yaml"
    path.write_text(textwrap.dedent("""\
        version: 1
        group: core
        scope: {ica_projects: [ken_debug]}
        policies:
          - name: archive-complete-runs
            description: Archive complete runs.
            resource: bssh.run
            filters: [status: Complete]
            actions: [archive]
        """))
    archives = plan_for(ica, bssh, paths=(str(path),)).plan.actions
    assert {a.resource.id for a in archives} == {"r6", "r-foreign"}  # the Complete runs of mgi_world
    assert all(a.fingerprint_fields == ["IsArchived", "Status"] for a in archives)
