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


@pytest.mark.parametrize("tamper", [False, True])
def test_a_path_edited_in_a_saved_plan_cannot_walk_a_delete_past_the_protect_list(make_sandbox, tmp_path, tamper):
    sb = make_sandbox(every_kind_world())
    cli = Cli(sb, tmp_path)
    mgi = tmp_path / "mgi.yaml"
    shutil.copy(MGI, mgi)
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace("{PROTECT}", "{}"))
    out = tmp_path / "plan.json"
    r = cli.run("plan", "-p", str(mgi), "-p", str(site), *cli.common(), "--format", "json", "--out", str(out))
    assert r.code == 0, r.stderr
    folder = "/ilmn-analyses/RUN_B/output/"
    plan = json.loads(out.read_text())
    [act] = [a for a in plan["actions"] if a["action"] == "delete" and a["resource"].get("path") == folder]
    # after review, the site protects RUN_B (legal hold)
    site.write_text(SITE.replace("{PROTECT}", "{paths: [/ilmn-analyses/RUN_B/]}"))
    if tamper:
        act["resource"]["path"] = "/ilmn-analyses/RUN_Z/output/"
        out.write_text(json.dumps(plan))
    res = cli.apply_file(out)
    st = data_of(cli.state(), "ken_debug")
    assert st.get(folder, {}).get("status") == "AVAILABLE", (res.stdout[-600:], res.stderr[-600:])


B_ID = "b0000000-0000-4000-8000-00000000000b"  # RUN_B, FAILED, 100 days: its output folder is deleted
FOLDER = "/ilmn-analyses/RUN_B/output/"


def test_an_analysis_protected_after_the_plan_shields_its_folder_at_apply(make_sandbox, tmp_path):
    sb = make_sandbox(every_kind_world())
    cli = Cli(sb, tmp_path)
    mgi = tmp_path / "mgi.yaml"
    shutil.copy(MGI, mgi)
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace("{PROTECT}", "{}"))
    out = tmp_path / "plan.json"
    r = cli.run("plan", "-p", str(mgi), "-p", str(site), *cli.common(), "--format", "json", "--out", str(out))
    assert r.code == 0, r.stderr
    plan = json.loads(out.read_text())
    assert [a for a in plan["actions"] if a["action"] == "delete" and a["resource"].get("path") == FOLDER]
    # a legal hold on the analysis arrives before the reviewed plan is applied
    site.write_text(SITE.replace("{PROTECT}", "{ids: [%s]}" % B_ID))
    # control: planning now leaves the folder out
    r2 = cli.run("plan", "-p", str(mgi), "-p", str(site), *cli.common(), "--format", "json")
    assert not [a for a in r2.json()["actions"] if a["resource"].get("path") == FOLDER]
    res = cli.apply_file(out)
    st = data_of(cli.state(), "ken_debug")
    assert st.get(FOLDER, {}).get("status") == "AVAILABLE", (st.get(FOLDER), res.stdout[-800:])
    assert "it is reached from analysis RUN_B, which is protected" in res.stdout + res.stderr  # found by review
