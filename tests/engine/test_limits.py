"""Safety rules: max_resources, the protect list, destructive-only-when-allowed."""

from __future__ import annotations

import pytest

from orch.engine.limits import LimitExceeded, Protect, check_max_resources, destructive_refusal, resource_tags
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


def test_resource_tags_of_ica_json():
    assert resource_tags({"data": {"details": {"tags": {"userTags": ["a"], "technicalTags": ["b"]}}}}) == ["a", "b"]
    assert resource_tags({"tags": {"userTags": ["c"]}}) == ["c"]
    assert resource_tags(None) == []


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
