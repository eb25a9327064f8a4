from pathlib import Path

import pytest

from orch.errors import PolicyError
from orch.policy.loader import load_policies
from orch.policy.render import render_for_resource
from tests.policy.helpers import analysis

ROOT = Path(__file__).resolve().parents[2]
MGI = ROOT / "policies" / "mgi.yaml"


def test_mgi_pack_loads_with_defaults():
    ps = load_policies([str(MGI)], {})
    f = ps.files[0]
    assert f.group == "mgi" and len(f.sha256) == 64
    assert f.vars["days_to_delete"] == 90 and f.vars["empty_trash"] is False
    assert f.scope.ica_projects == ["ken_debug", "Ken_demos"] and f.scope.bssh_from_bsshoutput
    by = {p.name: p for p in ps.policies}
    h = by["handoff-mgi-fastqs"]
    assert (h.resource, h.project, h.enabled) == ("ica.analysis", "ken_debug", True)
    assert [a.name for a in h.actions] == ["link", "manifest", "mark_managed"]
    assert h.actions[0].params.to == "Ken_demos"
    man = h.actions[1].params
    assert (man.folder, man.columns) == ("/fastq_manifests/", ("file_name", "file_path", "data_id", "project_id"))
    # per-resource templates are kept and rendered by the planner
    assert render_for_resource(man.name, f.vars, analysis=analysis("x")) == "RUN-x.download_manifest.csv"
    assert h.for_each.relation == "outputs" and h.for_each.recursive
    assert by["delete-basespace-datasets"].source.via == "bsshoutput_projects"
    assert by["delete-ica-outputs"].allow_destructive and by["delete-ica-outputs"].source.via == "output_folder"
    assert by["delete-basespace-runs"].enabled and not by["delete-all-basespace-runs"].enabled
    assert not by["empty-basespace-trash"].enabled
    assert all(p.file is f and p.group == "mgi" for p in ps.policies)
    assert h.pos.line > 1 and h.pos.path == str(MGI)


def test_var_overrides_are_coerced_and_retarget_the_pack():
    ps = load_policies([str(MGI)], {"days_to_delete": "120", "empty_trash": "yes", "bssh_runs": "all",
                                    "source_project": "other", "destination_project": "dest"})
    f = ps.files[0]
    by = {p.name: p for p in ps.policies}
    assert f.vars["days_to_delete"] == 120
    assert "older than 120d" in by["delete-basespace-datasets"].filters[0].describe()
    assert by["empty-basespace-trash"].enabled
    assert by["delete-all-basespace-runs"].enabled and not by["delete-basespace-runs"].enabled
    assert f.scope.ica_projects == ["other", "dest"] and by["handoff-mgi-fastqs"].project == "other"


def test_bad_var_value_points_at_the_variable():
    with pytest.raises(PolicyError) as exc:
        load_policies([str(MGI)], {"days_to_delete": "ninety"})
    assert str(exc.value).startswith(f"{MGI}:14:3: --var days_to_delete='ninety' is not a whole number")


def test_unknown_var_names_the_known_ones():
    with pytest.raises(PolicyError) as exc:
        load_policies([str(MGI)], {"days_to_delet": "1"})
    msg = str(exc.value)
    assert msg.startswith(f"{MGI}:10:1: unknown variable 'days_to_delet'") and "days_to_delete" in msg


def test_regex_var_override_is_checked():
    with pytest.raises(PolicyError, match=r"bad regex '\^M\[': unterminated"):
        load_policies([str(MGI)], {"mgi_name_regex": "^M["})


def test_folders_are_searched_recursively(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "mgi.yml").write_text(MGI.read_text())
    (tmp_path / "notes.txt").write_text("ignored")
    ps = load_policies([str(tmp_path)], {})
    assert [f.path for f in ps.files] == [str(tmp_path / "a" / "b" / "mgi.yml")]


def test_duplicate_names_across_files(tmp_path):
    (tmp_path / "one.yaml").write_text(MGI.read_text())
    (tmp_path / "two.yaml").write_text(MGI.read_text())
    with pytest.raises(PolicyError) as exc:
        load_policies([str(tmp_path)], {})
    assert "duplicate policy name 'handoff-mgi-fastqs' (also in" in str(exc.value)
    assert str(exc.value).startswith(str(tmp_path / "two.yaml") + ":")


def test_missing_path_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="no such file or folder"):
        load_policies([str(tmp_path / "nope.yaml")], {})
