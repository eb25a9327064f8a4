"""The shipped demo world: valid, identical in both places, and it exercises every MGI rule.

The expected outcomes below are the ones its comment header promises; an independent, minimal
reading of contracts section 4 (not the engine) derives them from the world's data, so the header,
the data and the contract cannot drift apart silently.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import yaml

from orch.timeutil import parse_ts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "worlds" / "demo.yaml"
FINAL = {"SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED"}
ARCHIVE_DAYS, DELETE_DAYS, HANDOFF_DAYS = 60, 90, 60
RUN_FOLDER = re.compile(r"^(\d{6}|\d{8})_[A-Z0-9]+_\d{4}_[A-Z0-9]+")


def packaged_text() -> str:
    return resources.files("orch").joinpath("data/demo.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def world() -> dict:
    return yaml.safe_load(packaged_text())


def ts(value) -> datetime:
    return parse_ts(value)  # type: ignore[return-value]


def window(now, when) -> str:
    age = now - ts(when)
    if age > timedelta(days=DELETE_DAYS):
        return "delete"
    if age > timedelta(days=ARCHIVE_DAYS):
        return "archive"
    return "young"


def project(world, name):
    return next(p for p in world["ica"]["projects"] if p["name"] == name)


def outputs(world, analysis):
    return [d for d in project(world, "ken_debug")["data"]
            if d["path"].startswith(analysis["output"]) and not d["path"].endswith("/")]


def bssh_projects(world, analysis) -> list[str]:
    marker = [d for d in outputs(world, analysis) if d["path"].rsplit("/", 1)[1] == "bsshoutput.json"]
    if not marker:
        return []
    return [p["Name"] for p in json.loads(marker[0]["content"])["Projects"].values()]


def by_user_reference(world) -> dict[str, dict]:
    return {a["userReference"]: a for a in project(world, "ken_debug")["analyses"]}


# ---------------------------------------------------------------------------- shape
def test_package_data_and_example_are_identical():
    assert EXAMPLE.read_text(encoding="utf-8") == packaged_text()


def test_valid_against_the_world_schema(world):
    from orch.sandbox import world as world_mod  # a broken import fails the test (never a skip)

    loaded = world_mod.load_world(str(EXAMPLE))
    assert loaded.now == parse_ts("2026-11-25T12:00:00Z")
    world_mod.validate_world(world)


def test_small_and_hand_checkable(world):
    assert world["now"] in ("2026-11-25T12:00:00Z", parse_ts("2026-11-25T12:00:00Z"))
    analyses = project(world, "ken_debug")["analyses"]
    assert 6 <= len(analyses) <= 10
    files = [d for p in world["ica"]["projects"] for d in p["data"] if not d["path"].endswith("/")]
    assert 80 <= len(files) <= 120
    assert packaged_text().startswith("# "), "a comment header explains the world"


def test_no_age_sits_near_a_window_boundary(world):
    """Boundaries are tested elsewhere with exact days; the demo must not depend on minutes."""
    now = ts(world["now"])
    stamps = [a["startDate"] for a in project(world, "ken_debug")["analyses"]]
    stamps += [d["DateCreated"] for p in world["basespace"]["projects"] for d in p["datasets"]]
    stamps += [r["DateCreated"] for r in world["basespace"]["runs"]]
    for s in stamps:
        age = now - ts(s)
        for days in (ARCHIVE_DAYS, DELETE_DAYS):
            assert abs(age - timedelta(days=days)) > timedelta(hours=12), s


# ---------------------------------------------------------------------------- hand-off
def handoff(world) -> dict[str, tuple[int, int]]:
    """userReference -> (links, manifest rows) for every analysis the hand-off picks."""
    now = ts(world["now"])
    dest = project(world, "Ken_demos")
    linked = {d["id"] for d in dest["data"] if "owningProjectId" in d}
    id_by_path = {d["path"]: d.get("id") for d in project(world, "ken_debug")["data"]}
    out = {}
    for a in project(world, "ken_debug")["analyses"]:
        if not re.search(r"(?i)bcl.*convert", a["pipeline"]) or a["status"] != "SUCCEEDED":
            continue
        if now - ts(a["startDate"]) > timedelta(days=HANDOFF_DAYS):
            continue
        names = [d["path"] for d in outputs(world, a)]
        chosen = [p for p in names
                  if p.endswith(".fastq.gz") and not p.rsplit("/", 1)[1].startswith("Undetermined")
                  and re.search(r"^M[-_]", p.rsplit("/", 1)[1])]
        links = [p for p in chosen if id_by_path[p] is None or id_by_path[p] not in linked]
        out[a["userReference"]] = (len(links), len(chosen))
    return out


def test_handoff_cases(world):
    assert handoff(world) == {
        "20261119_LH00619_0021_B22CCFJLT4": (8, 9),  # one file already linked
        "261114_A01536_0088_AHXXKJDSX7": (4, 4),     # .fastq and Sample7 stay behind
        "20261117_LH00412_0034_A22GHJKLM2": (0, 0),  # no MGI file: mark_managed only
    }


def test_handoff_name_cases_are_present(world):
    bases = {d["path"].rsplit("/", 1)[1] for d in project(world, "ken_debug")["data"]}
    for pattern in (r"^M-\d", r"^M_\d", r"^m-", r"^Phix_", r"^Sample\d", r"^Undetermined_S0_",
                    r"_I1_001\.fastq\.gz$", r"\.fastq$"):
        assert any(re.search(pattern, b) for b in bases), pattern
    statuses = {a["status"] for a in project(world, "ken_debug")["analyses"]}
    assert "INPROGRESS" in statuses and statuses & (FINAL - {"SUCCEEDED"})
    pipelines = {a["pipeline"] for a in project(world, "ken_debug")["analyses"]}
    assert any(not re.search(r"(?i)bcl.*convert", p) for p in pipelines)


def test_existing_links_and_manifest_are_consistent(world):
    src, dest = project(world, "ken_debug"), project(world, "Ken_demos")
    by_path = {d["path"]: d for d in src["data"]}
    for d in dest["data"]:
        if "owningProjectId" in d:
            assert d["owningProjectId"] == src["id"]
            assert by_path[d["path"]]["id"] == d["id"]
    manifests = [d for d in dest["data"] if d["path"].startswith("/fastq_manifests/")]
    assert len(manifests) == 1
    rows = list(csv.reader(io.StringIO(manifests[0]["content"])))
    assert rows[0] == ["file_name", "file_path", "data_id", "project_id"]
    assert [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:])
    for name, path, data_id, project_id in rows[1:]:
        assert by_path[path]["id"] == data_id and path.endswith("/" + name) and project_id == dest["id"]


# ---------------------------------------------------------------------------- lifecycle
def ica_lifecycle(world) -> dict[str, str]:
    now = ts(world["now"])
    folders = {d["path"]: d.get("status", "AVAILABLE") for d in project(world, "ken_debug")["data"]}
    out = {}
    for a in project(world, "ken_debug")["analyses"]:
        if a["status"] not in FINAL or bssh_projects(world, a):
            continue
        status = folders.get(a["output"], "AVAILABLE")
        w = window(now, a["startDate"])
        action = {("delete", "AVAILABLE"): "delete", ("delete", "ARCHIVED"): "unarchive",
                  ("archive", "AVAILABLE"): "archive"}.get((w, status))
        if action:
            out[a["userReference"]] = action
    return out


def dataset_lifecycle(world) -> dict[tuple[str, str], str]:
    now = ts(world["now"])
    projects = {p["Name"]: p for p in world["basespace"]["projects"]}
    out: dict[tuple[str, str], str] = {}
    for a in project(world, "ken_debug")["analyses"]:
        if a["status"] not in FINAL:
            continue
        aw = window(now, a["startDate"])
        for name in bssh_projects(world, a):
            for ds in projects[name]["datasets"]:
                dw = window(now, ds["DateCreated"])
                key = (name, ds["Name"])
                # contracts section 4 item 2: an analysis older than days_to_archive puts its projects under
                # lifecycle; the dataset's own DateCreated decides its action
                if aw not in ("archive", "delete"):
                    continue
                if dw == "delete":
                    out[key] = "unarchive" if ds["IsArchived"] else "delete"
                elif dw == "archive" and not ds["IsArchived"]:
                    out.setdefault(key, "archive")
    return out


def run_lifecycle(world, scope: str) -> dict[str, str]:
    now = ts(world["now"])
    folders = {RUN_FOLDER.match(a["userReference"]).group(0)
               for a in project(world, "ken_debug")["analyses"] if RUN_FOLDER.match(a["userReference"])}
    out = {}
    for r in world["basespace"]["runs"]:
        if scope == "source" and r["Name"] not in folders:
            continue
        w = window(now, r["DateCreated"])
        if w == "delete":
            out[r["Name"]] = "unarchive" if r["IsArchived"] else "delete"
        elif w == "archive" and not r["IsArchived"]:
            out[r["Name"]] = "archive"
    return out


def test_ica_managed_lifecycle(world):
    assert ica_lifecycle(world) == {
        "260910_A01536_0071_BHYYLMDSX7": "archive",
        "260727_A01536_0064_AHWWX2DSX7": "unarchive",  # ARCHIVED: two-phase delete
        "20260816_LH00412_0011_A22KP4M8QZ": "delete",  # FAILED is final
    }


def test_basespace_dataset_lifecycle(world):
    assert dataset_lifecycle(world) == {
        ("MGI_2026_09", "M-180-001_L001"): "archive",
        ("MGI_2026_09", "M_180_002_L001"): "archive",
        ("MGI_2026_09", "Phix_L001"): "archive",
        ("MGI_2026_08", "M-120-001_L001"): "delete",
        ("MGI_2026_08", "M_120_002_L001"): "unarchive",  # archived dataset: two-phase delete
        ("MGI_2026_08", "Phix_L001"): "delete",
        ("MGI_2026_08", "M-120-003_L001"): "archive",  # 80 d old, its own age decides (contracts s4 item 2)
    }


def test_basespace_projects_named_and_not_named(world):
    named = {n for a in project(world, "ken_debug")["analyses"] for n in bssh_projects(world, a)}
    all_projects = {p["Name"] for p in world["basespace"]["projects"]}
    assert named < all_projects
    assert "Core_QC_2026" in all_projects - named


def test_runs_with_and_without_a_source_analysis(world):
    source = run_lifecycle(world, "source")
    assert source == {
        "20260915_LH00619_0009_A22AB3CDE4": "archive",
        "20260806_LH00619_0005_B22XYZ12K3": "unarchive",
        "260727_A01536_0064_AHWWX2DSX7": "delete",
    }
    every = run_lifecycle(world, "all")
    assert every == {**source, "20260701_LH00731_0042_A22MNPQRS5": "delete"}


def test_both_run_folder_date_forms_and_both_managers(world):
    refs = by_user_reference(world)
    assert any(re.match(r"^\d{8}_", r) for r in refs) and any(re.match(r"^\d{6}_", r) for r in refs)
    managed = {bool(bssh_projects(world, a)) for a in refs.values() if a["status"] in FINAL}
    assert managed == {True, False}


# ---------------------------------------------------------------------------- the engine agrees
@pytest.mark.parametrize("overrides", [[], ["bssh_runs=all"], ["empty_trash=true"]])
def test_mgi_plan_on_the_demo_world_is_what_the_header_says(world, overrides, tmp_path, monkeypatch):
    """`orch plan --sandbox -p policies/mgi.yaml` plans exactly the actions derived above."""
    from typer.testing import CliRunner

    from orch.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["plan", "--sandbox", "-p", str(ROOT / "policies" / "mgi.yaml"), "--format", "json"]
    for o in overrides:
        args += ["--var", o]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["errors"] == []

    got: dict[str, list] = {}
    for a in plan["actions"]:
        r = a["resource"]
        got.setdefault(a["action"], []).append(r["path"] if r["kind"] == "ica.data" and a["action"] != "link"
                                              else r["name"])
    refs = by_user_reference(world)
    expected: dict[str, list] = {"link": [], "manifest": [], "mark_managed": []}
    for user_reference, (links, rows) in handoff(world).items():
        expected["mark_managed"].append(refs[user_reference]["reference"])
        if rows:
            expected["manifest"].append(refs[user_reference]["reference"])
    for user_reference, action in ica_lifecycle(world).items():
        expected.setdefault(action, []).append(refs[user_reference]["output"])
    for (_, name), action in dataset_lifecycle(world).items():
        expected.setdefault(action, []).append(name)
    for name, action in run_lifecycle(world, "all" if "bssh_runs=all" in overrides else "source").items():
        expected.setdefault(action, []).append(name)
    if "empty_trash=true" in overrides:
        expected["purge_trash"] = [r["name"] for a in plan["actions"] if a["action"] == "purge_trash"
                                   for r in [a["resource"]]]
        assert len(expected["purge_trash"]) == 1
    assert len(got.pop("link")) == sum(links for links, _ in handoff(world).values())
    expected.pop("link")
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in expected.items()}
