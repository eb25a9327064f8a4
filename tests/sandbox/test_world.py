"""World files: schema, clear one-line errors, load/dump round-trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from orch.errors import ConfigError
from orch.sandbox.world import dump_world, load_world, world_schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_code():
    on_disk = json.loads((ROOT / "schemas" / "world.schema.json").read_text())
    assert on_disk == world_schema()


def test_dump_load_dump_is_identity(small_world):
    first = dump_world(load_world(small_world))
    second = dump_world(load_world(copy.deepcopy(first)))
    assert first == second
    assert first["now"] == "2026-11-25T12:00:00Z"


def test_implied_folders_and_defaults(small_world):
    world = load_world(small_world)
    src = world.projects[0]
    assert src.data.get("/ilmn-analyses/RUN_A/output/Samples/Lane_1/").status == "AVAILABLE"
    notes = src.data.get("/scratch/notes.txt")
    assert notes.content == b"hello sandbox\n" and notes.size == len(b"hello sandbox\n")
    assert notes.id.startswith("fil.") and src.data.get("/scratch/").id.startswith("fol.")
    assert load_world(small_world).projects[0].data.get("/scratch/notes.txt").id == notes.id  # deterministic


def test_load_from_yaml_file_keeps_timestamps_exact(tmp_path, small_world):
    path = tmp_path / "w.yaml"
    text = yaml.safe_dump(small_world, sort_keys=False).replace("'2026-11-25T12:00:00Z'", "2026-11-25T12:00:00Z")
    path.write_text(text)
    world = load_world(path)
    assert world.now.isoformat() == "2026-11-25T12:00:00+00:00"


@pytest.mark.parametrize("mutate, expected", [
    (lambda w: w.update(format_version=2), "format_version"),
    (lambda w: w["ica"]["projects"][0]["data"][0].update(status="GONE"), "ica.projects[0].data[0].status"),
    (lambda w: w["ica"]["projects"][0]["data"][0].update(colour="red"), "ica.projects[0].data[0]"),
    (lambda w: w["ica"]["projects"][0]["data"][1].update(path="relative/x"), "ica.projects[0].data[1].path"),
    (lambda w: w["ica"]["projects"][1].pop("name"), "ica.projects[1]"),
    (lambda w: w["basespace"]["runs"][0].update(Status="Done"), "basespace.runs[0].Status"),
    (lambda w: w["timing"].update(archive="soon"), "timing.archive"),
    (lambda w: w["ica"]["projects"][0]["data"][0].update(timeCreated="yesterday"), "timeCreated"),
])
def test_bad_worlds_give_one_line_naming_the_field(small_world, mutate, expected):
    mutate(small_world)
    with pytest.raises(ConfigError) as err:
        load_world(small_world)
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_unreadable_and_invalid_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read world file"):
        load_world(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\nica: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+:\d+"):
        load_world(bad)


def test_duplicate_path_and_bad_link_are_refused(small_world):
    dup = copy.deepcopy(small_world)
    dup["ica"]["projects"][0]["data"].append({"path": "/scratch/notes.txt"})
    with pytest.raises(ConfigError, match="listed twice"):
        load_world(dup)
    small_world["ica"]["projects"][1]["data"].append(
        {"path": "/x.txt", "id": "fil.nope", "owningProjectId": small_world["ica"]["projects"][0]["id"]})
    with pytest.raises(ConfigError, match="linked data fil.nope"):
        load_world(small_world)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SEG = st.text(alphabet="abAB_1", min_size=1, max_size=3)
_ENTRY = st.fixed_dictionaries(
    {"path": st.lists(_SEG, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p))},
    optional={"status": st.sampled_from(["AVAILABLE", "ARCHIVED", "ARCHIVING", "DELETING", "PARTIAL"]),
              "content": st.text(max_size=5),
              "timeCreated": st.datetimes(min_value=__import__("datetime").datetime(2020, 1, 1),
                                          max_value=__import__("datetime").datetime(2030, 1, 1)).map(
                  lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))})


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(_ENTRY, max_size=12, unique_by=lambda e: e["path"]), link=st.booleans(),
       archived=st.booleans())
def test_dump_load_round_trip_property(entries, link, archived):
    files = [e for e in entries if not any(o["path"].startswith(e["path"] + "/") for o in entries)]
    src_id = "0d6f0000-0000-4000-8000-0000000000aa"
    world = {"format_version": 1, "now": "2026-11-25T12:00:00Z",
             "ica": {"projects": [{"name": "src", "id": src_id, "data": files}, {"name": "dst", "data": []}]},
             "basespace": {"projects": [{"Name": "bp", "datasets": [
                 {"Name": "d1", "IsArchived": archived},
                 {"Name": "d2", "ArchiveStatus": "Archiving", "dueAt": "2026-11-25T13:00:00Z"}]}],
                 "runs": [{"Name": "r1"}]}}
    loaded = load_world(world)
    if link and files:
        item = loaded.projects[0].data.get(files[0]["path"])
        loaded.link(item, loaded.projects[1])
    first = dump_world(loaded)
    second = dump_world(load_world(copy.deepcopy(first)))
    assert first == second
    assert {d["path"] for d in first["ica"]["projects"][0]["data"]} >= {f["path"] for f in files}


def test_fast_validator_agrees_with_jsonschema(small_world):
    from orch.sandbox.world import _VALIDATOR, _fast_validator

    fast = _fast_validator()
    assert fast is not None
    fast(small_world)
    assert not list(_VALIDATOR.iter_errors(small_world))
    small_world["ica"]["projects"][0]["data"][2]["size"] = -1
    with pytest.raises(Exception):
        fast(small_world)
    assert list(_VALIDATOR.iter_errors(small_world))


def test_implied_folders_inside_an_archived_folder_are_archived(small_world):
    world = load_world(small_world)
    src = world.projects[0]
    assert src.data.get("/ilmn-analyses/RUN_B/output/Samples/").status == "ARCHIVED"
    assert src.data.get("/ilmn-analyses/RUN_B/").status == "AVAILABLE"


def test_ica_ids_must_be_uuids(small_world):
    small_world["ica"]["projects"][0]["id"] = "ken-debug"
    with pytest.raises(ConfigError, match=r"ica\.projects\[0\]\.id"):
        load_world(small_world)
