"""A saved plan is stale-checked at apply even without the additive `fingerprint_fields` (the
contract's section-2 format does not have them): an output folder ARCHIVED after the plan was made is
not deleted (the plan's own snapshot said AVAILABLE). Found by review: it used to be deleted."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
import requests

from e2e_helpers import MGI, Cli, data_of, every_kind_world


def _archive_folder_behind_plan(sb, path):
    # someone archives the folder after the plan was made (real ICA API of the sandbox)
    from orch.connectors.ica import IcaClient
    ica = IcaClient(sb.ica_url, sb.world.api_key)
    proj = ica.find_project("ken_debug")
    d = [x for x in ica.list_data(proj.id, full_path=path) if x.path == path][0]
    ica.archive(proj.id, d.id)
    requests.post(sb.control_url + "/clock", json={"advance": "2h"}, timeout=10).raise_for_status()
    st = data_of(requests.get(sb.control_url + "/state", timeout=10).json(), "ken_debug")
    assert st[path]["status"] == "ARCHIVED"


@pytest.mark.parametrize("strip", [False, True])
def test_saved_plan_without_fingerprint_fields_is_still_stale_checked(make_sandbox, tmp_path, strip):
    sb = make_sandbox(every_kind_world())
    cli = Cli(sb, tmp_path)
    out = tmp_path / "plan.json"
    r = cli.plan(extra=("--out", str(out)))
    assert r.code == 0, r.stderr
    plan = json.loads(out.read_text())
    folder = "/ilmn-analyses/RUN_B/output/"
    dels = [a for a in plan["actions"] if a["action"] == "delete" and a["resource"].get("path") == folder]
    assert dels, [a["action"] for a in plan["actions"]]
    if strip:  # the contract's plan format (section 2) has no fingerprint_fields
        for a in plan["actions"]:
            a.pop("fingerprint_fields", None)
        out.write_text(json.dumps(plan))
    _archive_folder_behind_plan(sb, folder)
    res = cli.apply_file(out)
    st = data_of(cli.state(), "ken_debug")
    # expected: the delete is refused as stale (the folder is ARCHIVED now, not AVAILABLE as planned)
    assert folder in st and st[folder]["status"] == "ARCHIVED", (res.stdout, st.get(folder))
    assert "refused-stale" in res.stdout or "changed since the plan" in res.stdout, res.stdout


SITE = textwrap.dedent("""
    version: 1
    group: site
    scope: {ica_projects: [ken_debug]}
    protect: {PROTECT}
    policies:
      - name: site-noop
        description: nothing
        enabled: false
        resource: ica.analysis
        project: ken_debug
        actions: [mark_managed]
""")
B_ID = "b0000000-0000-4000-8000-00000000000b"  # RUN_B, FAILED, 100 days: its output folder is deleted
FOLDER = "/ilmn-analyses/RUN_B/output/"


def _reviewed_plan(make_sandbox, tmp_path):
    """The MGI pack plus a site file (an empty protect list for now); the plan saved for review."""
    cli = Cli(make_sandbox(every_kind_world()), tmp_path)
    mgi, site, out = tmp_path / "mgi.yaml", tmp_path / "site.yaml", tmp_path / "plan.json"
    shutil.copy(MGI, mgi)
    site.write_text(SITE.replace("{PROTECT}", "{}"))
    r = cli.run("plan", "-p", str(mgi), "-p", str(site), *cli.common(), "--format", "json", "--out", str(out))
    assert r.code == 0, r.stderr
    plan = json.loads(out.read_text())
    [delete] = [a for a in plan["actions"] if a["action"] == "delete" and a["resource"].get("path") == FOLDER]
    return cli, (mgi, site, out), plan, delete


@pytest.mark.parametrize("tamper", [False, True])
def test_a_path_edited_in_a_saved_plan_cannot_walk_a_delete_past_the_protect_list(make_sandbox, tmp_path, tamper):
    cli, (_, site, out), plan, delete = _reviewed_plan(make_sandbox, tmp_path)
    site.write_text(SITE.replace("{PROTECT}", "{paths: [/ilmn-analyses/RUN_B/]}"))  # a legal hold after review
    if tamper:
        delete["resource"]["path"] = "/ilmn-analyses/RUN_Z/output/"
        out.write_text(json.dumps(plan))
    res = cli.apply_file(out)
    st = data_of(cli.state(), "ken_debug")
    assert st.get(FOLDER, {}).get("status") == "AVAILABLE", (res.stdout[-600:], res.stderr[-600:])


def test_an_analysis_protected_after_the_plan_shields_its_folder_at_apply(make_sandbox, tmp_path):
    """Found by review: only the resource itself was re-checked at apply, not the analysis it came from."""
    cli, (mgi, site, out), _, _ = _reviewed_plan(make_sandbox, tmp_path)
    site.write_text(SITE.replace("{PROTECT}", "{ids: [%s]}" % B_ID))  # a legal hold on the analysis
    again = cli.run("plan", "-p", str(mgi), "-p", str(site), *cli.common(), "--format", "json")
    assert not [a for a in again.json()["actions"] if a["resource"].get("path") == FOLDER]  # planning leaves it out
    res = cli.apply_file(out)
    st = data_of(cli.state(), "ken_debug")
    assert st.get(FOLDER, {}).get("status") == "AVAILABLE", (st.get(FOLDER), res.stdout[-800:])
    assert "it is reached from analysis RUN_B, which is protected" in res.stdout + res.stderr
