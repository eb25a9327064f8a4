"""The ``tag`` action end to end: plan → apply → the sandbox holds the tags → plan again is empty."""

from __future__ import annotations

import pytest
import requests

from e2e_helpers import SRC_ID, Cli, data_of, every_kind_world

POLICY = """\
version: 1
group: tagging
vars:
  source_project: ken_debug
scope:
  ica_projects: ["{{ source_project }}"]
policies:
  - name: tag-mgi-fastqs
    description: Tag each MGI FASTQ with its analysis.
    resource: ica.data
    from:
      analyses: {project: "{{ source_project }}", filters: [status: SUCCEEDED]}
      via: outputs
    filters:
      - {field: name, regex: '^M-1_.*\\.fastq\\.gz$'}
    actions:
      - tag: {user_tags: ["mgi", "from-{{ analysis.userReference }}", "file-{{ resource.name[:4] }}"]}
  - name: tag-old-analyses
    description: Mark analyses that reached the archive window.
    resource: ica.analysis
    project: "{{ source_project }}"
    filters:
      - age: {field: startDate, older_than: 60d}
    actions:
      - tag: {user_tags: ["lifecycle-reviewed", "ref-{{ analysis.userReference }}"]}
"""

R1_PATH = "/ilmn-analyses/RUN_A/output/Samples/M-1_S1_L001_R1_001.fastq.gz"
R2_PATH = "/ilmn-analyses/RUN_A/output/Samples/M-1_S1_L001_R2_001.fastq.gz"
OLD = {"b0000000-0000-4000-8000-00000000000b": "RUN_B", "c0000000-0000-4000-8000-00000000000c": "RUN_C",
       "d0000000-0000-4000-8000-00000000000d": "RUN_D",
       "e0000000-0000-4000-8000-00000000000e": "20260817_LH00619_0005_B22XYZ12K3",
       "f0000000-0000-4000-8000-00000000000f": "20260916_LH00619_0009_A22AB3CDE4"}


@pytest.fixture
def world():
    w = every_kind_world()
    src = w["ica"]["projects"][0]
    r2 = next(d for d in src["data"] if d["path"] == R2_PATH)
    r2["tags"] = {"userTags": ["mgi"], "technicalTags": ["keep-me"]}  # one tag already there
    return w


@pytest.fixture
def cli(make_sandbox, world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tags.yaml").write_text(POLICY)
    return Cli(make_sandbox(world), tmp_path)


def analyses_of(state: dict) -> dict[str, dict]:
    return {a["id"]: a for p in state["ica"]["projects"] if p["id"] == SRC_ID for a in p["analyses"]}


def test_tag_plan_apply_state_replan(cli, tmp_path):
    policy = str(tmp_path / "tags.yaml")
    first = cli.plan(policy=policy)
    assert first.code == 0, first.stderr
    actions = first.json()["actions"]
    assert {a["action"] for a in actions} == {"tag"}
    by_id = {a["resource"]["id"]: a for a in actions}
    assert by_id["fil.a1"]["params"]["user_tags"] == sorted(["mgi", "from-RUN_A", "file-M-1_"])
    assert by_id["fil.a2"]["params"]["user_tags"] == ["file-M-1_", "from-RUN_A"]  # "mgi" is already there
    assert {i for i, a in by_id.items() if a["resource"]["kind"] == "ica.analysis"} == set(OLD)
    assert "a0000000-0000-4000-8000-00000000000a" not in by_id  # 5 days old

    applied = cli.apply(policy=policy)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stdout

    state = cli.state()
    src = data_of(state, "ken_debug")
    assert src[R1_PATH]["tags"] == {"userTags": ["file-M-1_", "from-RUN_A", "mgi"]}
    assert src[R2_PATH]["tags"] == {"technicalTags": ["keep-me"], "userTags": ["mgi", "file-M-1_", "from-RUN_A"]}
    assert "tags" not in src["/ilmn-analyses/RUN_A/output/Samples/X-2_S2_L001_R1_001.fastq.gz"]
    analyses = analyses_of(state)
    for aid, ref in OLD.items():
        assert analyses[aid]["tags"] == {"userTags": ["lifecycle-reviewed", f"ref-{ref}"]}
    assert "tags" not in analyses["a0000000-0000-4000-8000-00000000000a"]

    again = cli.plan(policy=policy)
    assert again.code == 0, again.stderr
    assert again.json()["actions"] == []


def test_apply_of_a_saved_plan_skips_tags_added_meanwhile(cli, tmp_path):
    """A saved plan applied twice: the second apply finds every tag present and skips (no write)."""
    policy = str(tmp_path / "tags.yaml")
    saved = tmp_path / "plan.json"
    first = cli.run("plan", "-p", policy, *cli.common(), "--out", str(saved))
    assert first.code in (0, 2), first.stderr
    done = cli.apply_file(saved)
    assert done.code == 0, done.stdout + done.stderr
    assert done.stderr.count("tagged with") == 7 and "already" not in done.stderr, done.stderr
    requests.post(cli.sandbox.control_url + "/requests:reset", timeout=5).raise_for_status()
    twice = cli.apply_file(saved)
    assert twice.code == 0, twice.stdout + twice.stderr
    assert "7 already done" in twice.stdout
    assert twice.stderr.count("already tagged with") == 7
    routes = requests.get(cli.sandbox.control_url + "/requests", timeout=5).json()["by_route"]
    assert not [r for r in routes if r.startswith("PUT ")]  # nothing written the second time
