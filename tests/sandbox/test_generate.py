"""The world generator: deterministic, sized as asked, valid, realistic."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import timedelta

import pytest
import yaml
from typer.testing import CliRunner

from orch.cli import app
from orch.errors import ConfigError
from orch.sandbox.generate import BCLCONVERT_PIPELINES, dump_world_json, dump_world_yaml, generate_world
from orch.timeutil import parse_ts

RUN_FOLDER = re.compile(r"^(\d{8}|\d{6})_(LH|A|VH)\d{5}_\d{4}_([AB][A-Z0-9]{9}|AAA[A-Z0-9]{4}M5)$")
BCL_REFERENCE = re.compile(
    r"^(?P<run>(\d{8}|\d{6})_[A-Z]+\d+_\d{4}_[A-Z0-9]{9,10})_[0-9a-f]{6}_[0-9a-f]{6}"
    r"-(?P<pipeline>[A-Za-z0-9_]+)-(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$")
FASTQ = re.compile(r"^(?P<sample>[A-Za-z0-9_-]+?)_S(?P<s>\d+)_L(?P<lane>\d{3})_(?P<read>[RI][12])_001\.fastq(\.gz)?$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FILE_ID = re.compile(r"^fil\.[0-9a-f]{32}$")
FOLDER_ID = re.compile(r"^fol\.[0-9a-f]{32}$")
DATASET_ID = re.compile(r"^ds\.[0-9a-f]{32}$")


def source(world):
    return next(p for p in world["ica"]["projects"] if p["name"] == "ken_debug")


def destination(world):
    return next(p for p in world["ica"]["projects"] if p["name"] == "Ken_demos")


def files_under(world, folder):
    return [d for d in source(world)["data"] if d["path"].startswith(folder) and not d["path"].endswith("/")]


@pytest.fixture(scope="module")
def medium():
    return generate_world(analyses=120, files_per_analysis=30, seed=9)


def test_same_seed_same_world_and_bytes():
    a = generate_world(analyses=15, seed=4)
    b = generate_world(analyses=15, seed=4)
    assert a == b
    assert dump_world_yaml(a) == dump_world_yaml(b)


def test_different_seeds_differ():
    a = generate_world(analyses=15, seed=4)
    b = generate_world(analyses=15, seed=5)
    assert a != b
    assert {x["id"] for x in source(a)["analyses"]}.isdisjoint(x["id"] for x in source(b)["analyses"])


@pytest.mark.parametrize("analyses,fpa,bssh", [(0, 24, 0.5), (1, 1, 1.0), (7, 2, 0.0), (12, 5, 0.5),
                                               (30, 24, 1.0), (5, 400, 0.5)])
def test_sizes_are_honoured(analyses, fpa, bssh):
    world = generate_world(analyses=analyses, files_per_analysis=fpa, bssh_fraction=bssh, seed=2)
    found = source(world)["analyses"]
    assert len(found) == analyses
    for a in found:
        assert len(files_under(world, a["output"])) == fpa, a["reference"]
    all_files = [d for d in source(world)["data"] if not d["path"].endswith("/")]
    assert len(all_files) == analyses * fpa


def test_bssh_fraction_extremes():
    none = generate_world(analyses=30, bssh_fraction=0.0, seed=3)
    every = generate_world(analyses=30, bssh_fraction=1.0, seed=3)
    assert not any(d["path"].endswith("/bsshoutput.json") for d in source(none)["data"])
    bcl = [a for a in source(every)["analyses"] if a["pipeline"] in BCLCONVERT_PIPELINES]
    for a in bcl:
        assert any(d["path"] == a["output"] + "bsshoutput.json" for d in source(every)["data"])


def test_now_is_the_world_clock():
    world = generate_world(analyses=5, now="2027-03-01T00:00:00Z")
    assert world["now"] == "2027-03-01T00:00:00Z"
    assert all(parse_ts(a["startDate"]) <= parse_ts(world["now"]) for a in source(world)["analyses"])


def test_bad_sizes_are_one_clear_error():
    for kwargs in ({"analyses": -1}, {"files_per_analysis": 0}, {"bssh_fraction": 1.5}):
        with pytest.raises(ConfigError):
            generate_world(**kwargs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_generated_world_is_valid(seed):
    from orch.sandbox import world as world_mod  # a broken import fails the test (never a skip)

    world = generate_world(analyses=25, files_per_analysis=20, seed=seed)
    world_mod.validate_world(world)
    loaded = world_mod.load_world(yaml.safe_load(dump_world_yaml(world)))
    dest = next(p for p in loaded.projects if p.name == "Ken_demos")
    linked = [d for d in destination(world)["data"] if "owningProjectId" in d]
    assert linked, "the seed should include earlier hand-offs"
    assert {it.id for it in dest.data.items} >= {d["id"] for d in linked}


def test_ids_are_realistic_and_unique(medium):
    src, dst = source(medium), destination(medium)
    assert UUID.match(src["id"]) and UUID.match(dst["id"])
    own = [d for p in (src, dst) for d in p["data"] if "owningProjectId" not in d]
    for d in own:
        assert (FOLDER_ID if d["path"].endswith("/") else FILE_ID).match(d["id"]), d
    assert len({d["id"] for d in own}) == len(own)
    assert all(UUID.match(a["id"]) for a in src["analyses"])
    bs = medium["basespace"]
    datasets = [ds for p in bs["projects"] for ds in p["datasets"]]
    assert all(DATASET_ID.match(ds["Id"]) for ds in datasets)
    assert len({ds["Id"] for ds in datasets}) == len(datasets)
    assert all(p["Id"].isdigit() for p in bs["projects"]) and all(r["Id"].isdigit() for r in bs["runs"])
    assert len({r["Id"] for r in bs["runs"]}) == len(bs["runs"])


def test_names_are_realistic(medium):
    src = source(medium)
    forms = Counter()
    for a in src["analyses"]:
        assert a["output"] == f"/ilmn-analyses/{a['reference']}/output/"
        if a["pipeline"] in BCLCONVERT_PIPELINES:
            assert RUN_FOLDER.match(a["userReference"]), a["userReference"]
            m = BCL_REFERENCE.match(a["reference"])
            assert m and m["run"] == a["userReference"] and m["pipeline"] == a["pipeline"] and m["uuid"] == a["id"]
            forms[len(a["userReference"].split("_")[0])] += 1
    assert forms[8] and forms[6], "both YYYYMMDD_ and YYMMDD_ run folders"
    samples = Counter()
    for d in src["data"]:
        if "/Samples/Lane_" in d["path"]:
            lane_dir, base = d["path"].rsplit("/", 2)[-2:]
            m = FASTQ.match(base)
            assert m, base
            assert lane_dir == f"Lane_{int(m['lane'])}"
            assert (m["sample"] == "Undetermined") == (m["s"] == "0")
            samples[re.sub(r"[0-9]+", "9", m["sample"])] += 1
            samples["read:" + m["read"]] += 1
            samples["gz" if base.endswith(".gz") else "plain"] += 1
    for expected in ("M-9-9", "M_9_9", "m-9-9", "Phix", "Sample9", "Undetermined", "read:I1", "read:I2", "plain"):
        assert samples[expected], expected
    bases = {d["path"].rsplit("/", 1)[1] for d in src["data"]}
    assert {"Demultiplex_Stats.csv", "RunInfo.xml", "Errors.log", "bsshoutput.json"} <= bases
    assert {a["pipeline"] for a in src["analyses"]} - set(BCLCONVERT_PIPELINES), "some non-BCLConvert pipelines"


def test_ages_statuses_and_archiving_are_spread(medium):
    now = parse_ts(medium["now"])
    ages = [now - parse_ts(a["startDate"]) for a in source(medium)["analyses"]]
    assert any(a < timedelta(days=60) for a in ages)
    assert any(timedelta(days=60) < a < timedelta(days=90) for a in ages)
    assert any(a > timedelta(days=90) for a in ages)
    statuses = Counter(a["status"] for a in source(medium)["analyses"])
    assert statuses["SUCCEEDED"] and statuses["INPROGRESS"] and (statuses["FAILED"] + statuses["ABORTED"])
    folders = Counter(d["status"] for d in source(medium)["data"] if d["path"].endswith("/output/"))
    assert folders["ARCHIVED"]
    bs = medium["basespace"]
    assert any(ds["IsArchived"] for p in bs["projects"] for ds in p["datasets"])
    assert any(r["IsArchived"] for r in bs["runs"]) and not all(r["IsArchived"] for r in bs["runs"])


def test_basespace_managed_analyses_point_at_their_basespace_objects(medium):
    src, bs = source(medium), medium["basespace"]
    projects = {p["Name"]: p for p in bs["projects"]}
    runs = {r["Name"] for r in bs["runs"]}
    managed = 0
    for a in src["analyses"]:
        marker = [d for d in src["data"] if d["path"] == a["output"] + "bsshoutput.json"]
        if not marker:
            if a["pipeline"] in BCLCONVERT_PIPELINES:
                assert a["userReference"] not in runs, "ICA-managed analyses have no BaseSpace run"
            continue
        managed += 1
        names = [p["Name"] for p in json.loads(marker[0]["content"])["Projects"].values()]
        assert names and all(n in projects for n in names)
        assert a["userReference"] in runs
        fastqs = {FASTQ.match(d["path"].rsplit("/", 1)[1]) for d in files_under(medium, a["output"])} - {None}
        expected = {f"{m['sample']}_L{m['lane']}" for m in fastqs if m["s"] != "0"}
        if a["status"] != "INPROGRESS":
            got = {ds["Name"] for n in names for ds in projects[n]["datasets"]}
            assert expected <= got, "one dataset per sample per lane"
    assert managed
    named = {p["Name"] for a in src["analyses"] for d in src["data"]
             if d["path"] == a["output"] + "bsshoutput.json"
             for p in json.loads(d["content"])["Projects"].values()}
    assert set(projects) - named, "some BaseSpace projects no analysis names"
    assert runs - {a["userReference"] for a in src["analyses"]}, "some runs without an analysis in the source"


def test_earlier_hand_offs_are_links_and_manifests(medium):
    src, dst = source(medium), destination(medium)
    by_id = {d["id"]: d for d in src["data"]}
    links = [d for d in dst["data"] if "owningProjectId" in d]
    assert links
    for d in links:
        assert d["owningProjectId"] == src["id"]
        owner = by_id[d["id"]]
        assert owner["path"] == d["path"]
        base = d["path"].rsplit("/", 1)[1]
        assert re.search(r"^M[-_]", base) and base.endswith(".fastq.gz")
    manifests = [d for d in dst["data"] if d["path"].startswith("/fastq_manifests/")]
    assert manifests
    refs = {a["reference"] for a in src["analyses"]}
    for m in manifests:
        ref = m["path"][len("/fastq_manifests/"):-len(".download_manifest.csv")]
        assert ref in refs
        rows = list(csv.reader(io.StringIO(m["content"])))
        assert rows[0] == ["file_name", "file_path", "data_id", "project_id"]
        assert [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:])
        for name, path, data_id, project_id in rows[1:]:
            assert by_id[data_id]["path"] == path and path.endswith("/" + name) and project_id == dst["id"]


def test_cli_generate_writes_a_loadable_world():
    result = CliRunner().invoke(app, ["sandbox", "generate", "--analyses", "4", "--files-per-analysis", "6",
                                      "--seed", "8", "--now", "2026-12-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert doc == generate_world(analyses=4, files_per_analysis=6, seed=8, now="2026-12-01T00:00:00Z")


def test_cli_generate_bad_size_is_one_line():
    result = CliRunner().invoke(app, ["sandbox", "generate", "--bssh-fraction", "2"])
    assert result.exit_code == 1
    assert "between 0 and 1" in result.output and "Traceback" not in result.output


def test_cli_generate_json_and_total_files():
    result = CliRunner().invoke(app, ["sandbox", "generate", "--files", "95", "--files-per-analysis", "10",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == generate_world(analyses=10, files_per_analysis=10)
    both = CliRunner().invoke(app, ["sandbox", "generate", "--files", "95", "--analyses", "3"])
    assert both.exit_code == 1 and "not both" in both.output


def test_yaml_dump_reads_back_identically_for_any_json_like_world():
    odd = {"format_version": 1, "now": "2026-11-25T12:00:00Z",
           "ica": {"projects": [{"name": "x: y # z", "data": [{"path": "/ü/'q\"\n- [", "size": 0}],
                                 "analyses": []}], "link_batches": []},
           "odd key": [[1, 2.5, None, True], [], {}], "e": {}}
    assert yaml.safe_load(dump_world_yaml(odd)) == odd
    world = generate_world(analyses=12, files_per_analysis=9, seed=6)
    assert yaml.safe_load(dump_world_yaml(world)) == world
    assert json.loads(dump_world_json(world)) == world


def test_run_numbers_stay_four_digits_in_big_worlds():
    world = generate_world(analyses=25_000, files_per_analysis=1, bssh_fraction=0.0, seed=1)
    refs = [a["userReference"] for a in source(world)["analyses"] if a["pipeline"] in BCLCONVERT_PIPELINES]
    assert all(RUN_FOLDER.match(r) for r in refs)
    assert max(int(r.split("_")[2]) for r in refs) > 9900, "the counters went past 9999 and wrapped"
    assert len(set(refs)) == len(refs), "run folders are unique"
