"""Safety rules: max_resources, the protect list, destructive-only-when-allowed."""

from __future__ import annotations

import textwrap

import pytest

from orch.engine.limits import LimitExceeded, Protect, check_max_resources, destructive_refusal
from orch.engine.plan import PlannedAction
from orch.policy.model import Limits, Policy


def policy(count=None, percent=None) -> Policy:
    return Policy(name="p", description="", resource="bssh.dataset", group="g", enabled=True, project=None,
                  source=None, filters=[], for_each=None, actions=[], limits=Limits(count, percent),
                  allow_destructive=True)


@pytest.mark.parametrize("count,percent,selected,population,ok", [
    (None, None, 1000, 1000, True),
    (5, None, 5, 100, True),
    (5, None, 6, 100, False),
    (None, 25, 25, 100, True),
    (None, 25, 26, 100, False),
    (None, 25, 1, 3, False),  # 33% of a small population is still too many
    (None, 25, 0, 0, True),
    (10, 50, 6, 10, False),  # both limits hold
])
def test_max_resources(count, percent, selected, population, ok):
    if ok:
        check_max_resources(policy(count, percent), selected, population)
    else:
        with pytest.raises(LimitExceeded, match="max_resources"):
            check_max_resources(policy(count, percent), selected, population)


def test_protect_by_id_name_path_and_tag():
    p = Protect(names=["keep-*"], paths=["/ilmn-analyses/KEEP/", "/exact/file.txt"], ids=["fil.1"], tags=["legal-hold"])
    assert p.why({"id": "fil.1"}) and "id" in p.why({"id": "fil.1"})
    assert p.why({"id": "x", "name": "keep-me.fastq.gz"})
    assert p.why({"id": "x", "path": "/ilmn-analyses/KEEP/output/a.fastq.gz"})
    assert p.why({"id": "x", "path": "/exact/file.txt"})
    assert p.why({"id": "x", "path": "/ilmn-analyses/"})  # a folder that contains a protected path
    assert p.why({"id": "x", "name": "n"}, tags=["legal-hold"])
    assert p.why({"id": "x", "name": "other", "path": "/ilmn-analyses/OTHER/x"}) is None
    assert not Protect()


def test_protect_from_mapping_and_merge():
    a = Protect.from_mapping({"ids": ["1"], "names": ["x"]})
    b = Protect.from_mapping({"ids": ["2"], "tags": ["t"]})
    m = a.merge(b)
    assert m.ids == ["1", "2"] and m.names == ["x"] and m.tags == ["t"]


def test_tags_are_typed_views_of_the_ica_json():
    from orch.connectors import mapping

    d = mapping.ica_data({"data": {"id": "fil.1", "details": {"tags": {"userTags": ["a"], "technicalTags": ["b"]},
                                                                "objectETag": "e1"}}, "projectId": "p"})
    assert d.tags == ["a", "b"] and d.user_tags == ["a"] and d.version == "e1"
    a = mapping.ica_analysis({"id": "an.1", "tags": {"userTags": ["c"]}}, "p")
    assert a.tags == ["c"] == a.user_tags
    ds = mapping.bssh_dataset({"Id": "ds.1", "IsDeleted": True})
    assert ds.tags == [] and ds.is_deleted and not mapping.bssh_run({"Id": "r"}).is_deleted
    assert mapping.ica_data({"data": {"id": "fil.2", "details": {}}, "projectId": "p"}).tags == []


def test_destructive_refusal():
    delete = PlannedAction.create("p", "g", "delete", {"kind": "ica.data", "id": "fil.1", "name": "f"})
    first_phase = PlannedAction.create("p", "g", "unarchive", {"kind": "ica.data", "id": "fil.1", "name": "f"},
                                       params={"then": "delete"})
    archive = PlannedAction.create("p", "g", "archive", {"kind": "ica.data", "id": "fil.1", "name": "f"})
    assert destructive_refusal(delete, True) is None
    assert "allow_destructive" in destructive_refusal(delete, False)
    assert "not among the loaded policies" in destructive_refusal(delete, None)
    assert destructive_refusal(first_phase, False)
    assert destructive_refusal(archive, None) is None


# ------------------------------------------------------------------ protect: matching semantics
@pytest.mark.parametrize("pattern, path, protected", [
    ("/a/KEEP/", "/a/KEEP/", True),
    ("/a/KEEP", "/a/KEEP/", True),  # a trailing slash makes no difference
    ("/a/KEEP", "/a/KEEP/sub/x.bam", True),  # everything under it
    ("/a/KEEP/", "/a/KEEP", True),
    ("/a/KEEP", "/a/KEEPER/x.bam", False),  # a path prefix, not a string prefix
    ("/a/x.bam", "/a/x.bam", True),
    ("/a/x.bam", "/a/x.bam.md5", False),
    ("/a/*/keep.bam", "/a/b/keep.bam", True),
    ("/a/*/keep.bam", "/a/b/c/keep.bam", True),  # * also matches /
    ("/a/RUN_?/", "/a/RUN_1/out/x.txt", True),  # a glob protects what is under its matches
    ("/a/RUN_?/", "/a/RUN_10/out/x.txt", False),
    ("/", "/anything", True),
])
def test_protect_path_semantics(pattern, path, protected):
    assert bool(Protect(paths=[pattern]).why({"id": "x", "path": path})) is protected


@pytest.mark.parametrize("pattern, folder, protected", [
    ("/a/b/x.bam", "/a/", True),  # deleting /a/ would delete /a/b/x.bam
    ("/a/b/x.bam", "/a/b/", True),
    ("/a/b/x.bam", "/a/c/", False),
    ("/a/b/x.bam", "/a/bb/", False),
    ("/a/*/keep.bam", "/a/", True),
    ("/a/*/keep.bam", "/a/z/y/", True),  # may hold /a/z/y/keep.bam
    ("/a/*/keep.bam", "/b/", False),
    ("/a/KEEP*", "/a/", True),
    ("/a/KEEP*", "/a/OTHER/", False),
])
def test_a_folder_that_contains_a_protected_path_is_protected(pattern, folder, protected):
    why = Protect(paths=[pattern]).why({"id": "x", "path": folder})
    assert bool(why) is protected
    if protected and not why.startswith("its path"):
        assert "contains the protected path" in why


def test_protect_names_are_base_name_globs_and_ids_and_tags_are_exact():
    p = Protect(names=["*.cram"], ids=["fil.1"], tags=["legal-hold"])
    assert p.why({"id": "x", "name": "S1.cram", "path": "/a/S1.cram"})
    assert not p.why({"id": "x", "name": "S1.CRAM"})  # case-sensitive
    assert not p.why({"id": "fil.10"}) and not p.why({"id": "fil."})
    assert not p.why({"id": "x"}, tags=["legal-hold-2"])
    assert p.why({"id": "x"}, tags=["other", "legal-hold"]) == "it carries the protected tag 'legal-hold'"


# ------------------------------------------------------------------ protect: the planner
def _plan_with_protect(tmp_path, protect_yaml: str, tweak=None):
    from pathlib import Path

    from mgi_world import MGI, mgi_world, plan_for

    from orch.engine.commands import load_protect
    from orch.policy.loader import load_policies

    policy = tmp_path / "mgi.yaml"
    policy.write_text(Path(MGI).read_text().replace("protect: {}\n", protect_yaml))
    ica, bssh = mgi_world()
    if tweak:
        tweak(ica)
    protect = load_protect(load_policies([str(policy)], {}))
    return plan_for(ica, bssh, paths=(str(policy),), protect=protect), policy


def _keep_file(ica):
    from engine_fakes import data

    ica.add(data("p-src", "/ilmn-analyses/RUN_FAILED_OLD/output/keep.bam", "fil.keep"))


def _tag_archived(ica):
    from mgi_world import SRC

    folder = ica.items[(SRC, "fol.a4")]
    folder.raw["data"]["details"]["tags"] = {"userTags": [], "technicalTags": ["legal-hold"]}


def test_a_policy_files_protect_list_keeps_names_paths_ids_and_tags_out_of_the_plan(tmp_path):
    def tweak(ica):
        _keep_file(ica)
        _tag_archived(ica)

    outcome, policy = _plan_with_protect(tmp_path, textwrap.dedent("""\
        protect:
          names: ["M_2_*"]
          paths: [/ilmn-analyses/RUN_FAILED_OLD/output/keep.bam, "/ilmn-analyses/RUN_ARCHIVE/output/Samples/"]
          ids: [ds.old]
          tags: [legal-hold]
        """), tweak)
    planned = {(a.action, a.resource.id) for a in outcome.plan.actions}
    gone = {("link", "fil.a1.1"),  # name
            ("delete", "fol.a2"),  # the folder holds a protected file
            ("archive", "fol.a3"),  # the folder holds a protected folder
            ("delete", "ds.old"),  # id
            ("unarchive", "fol.a4")}  # tag
    assert not gone & planned
    assert {("unarchive", "ds.oldarch"), ("delete", "r6")} <= planned
    # a hand-off is whole or not at all: a1's other files, manifest and ledger record wait too
    assert not {("link", "fil.a1.0"), ("manifest", "a1"), ("mark_managed", "a1")} & planned
    assert not outcome.plan.errors  # protection is not an error
    notes = "\n".join(outcome.notes)
    for needle in ("selected file(s) are protected", "its hand-off is held back", "its name 'M_2_S2_L001_R1_001.fastq.gz' matches protect name 'M_2_*'",
                   "delete of ica.data /ilmn-analyses/RUN_FAILED_OLD/output/ not planned: the folder contains the "
                   "protected path '/ilmn-analyses/RUN_FAILED_OLD/output/keep.bam'",
                   "its id ds.old is on the protect list", "it carries the protected tag 'legal-hold'"):
        assert needle in notes, notes
    assert notes.count(f"of {policy})") == 5  # every note names the file that protected it


def test_without_protect_the_same_world_plans_them(tmp_path):
    outcome, _ = _plan_with_protect(tmp_path, "protect: {}\n", lambda ica: (_keep_file(ica), _tag_archived(ica)))
    planned = {(a.action, a.resource.id) for a in outcome.plan.actions}
    assert {("link", "fil.a1.1"), ("delete", "fol.a2"), ("archive", "fol.a3"), ("delete", "ds.old"),
            ("unarchive", "fol.a4")} <= planned


def test_a_protected_analysis_gets_no_analysis_actions(tmp_path):
    outcome, _ = _plan_with_protect(tmp_path, 'protect: {names: ["20261120_LH00619_0021_B22CCFJLT4-*"]}\n')
    planned = {(a.action, a.resource.id) for a in outcome.plan.actions}
    assert ("mark_managed", "a1") not in planned and ("manifest", "a1") not in planned
