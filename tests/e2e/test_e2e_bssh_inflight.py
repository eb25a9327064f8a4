"""BaseSpace archive/restore in flight, over the sandbox as the real API shows it: no ``ArchiveStatus``,
only ``IsArchived`` (true from an archive request on; a restore flips it when it completes). orch's ledger is what keeps re-plans idempotent;
without it (a fresh ``--state``) orch may repeat a request, but never deletes what is still archived."""

from __future__ import annotations

import pytest
import requests

from e2e_helpers import TOKEN, Cli, datasets_of, every_kind_world, runs_of

ARCHIVED_FOR_DELETE, TO_ARCHIVE, RUN_TO_ARCHIVE = "ds.oldarch", "ds.mid", "2002"


@pytest.fixture
def cli(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Cli(make_sandbox(every_kind_world()), tmp_path)


def bs_get(cli: Cli, path: str) -> dict:
    r = requests.get(cli.sandbox.basespace_url + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def on(plan: dict, rid: str) -> list[tuple[str, str | None]]:
    return [(a["action"], a["params"].get("then")) for a in plan["actions"] if a["resource"]["id"] == rid]


def test_in_flight_archive_work_is_remembered_by_the_ledger_only(cli, tmp_path):
    applied = cli.apply()
    assert applied.code == 0, applied.stdout + applied.stderr
    # the work is in flight: the dump shows it, the API does not
    state = cli.state()
    assert datasets_of(state)[ARCHIVED_FOR_DELETE].get("ArchiveStatus") == "Restoring"
    assert datasets_of(state)[TO_ARCHIVE].get("ArchiveStatus") == "Archiving"
    assert runs_of(state)[RUN_TO_ARCHIVE].get("ArchiveStatus") == "Archiving"
    restoring, archiving = bs_get(cli, f"/v2/datasets/{ARCHIVED_FOR_DELETE}"), bs_get(cli, f"/v2/datasets/{TO_ARCHIVE}")
    assert "ArchiveStatus" not in restoring and "ArchiveStatus" not in archiving
    assert (restoring["IsArchived"], archiving["IsArchived"]) == (True, True)  # archive: "status will update right away"
    assert not [r for r in bs_get(cli, "/v2/runs")["Items"] if "ArchiveStatus" in r]

    # re-plan with the ledger: nothing to do, the requests orch made are noted as in transit
    again = cli.plan(extra=("--detailed-exitcode",))
    assert again.code == 0, again.stdout + again.stderr
    assert again.json()["actions"] == []
    assert "M-6_L001 (restore requested by orch)" in again.stderr
    # archived ones show IsArchived true at once: the archive policies no longer select them at all
    assert "M-8_L001" not in again.stderr and "20260916_LH00619_0009_A22AB3CDE4" not in again.stderr

    # a fresh, empty ledger: IsArchived alone decides; the restore is asked again at most, never a delete
    fresh = Cli(cli.sandbox, tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    blind = fresh.plan()
    assert blind.code == 0, blind.stdout + blind.stderr
    plan = blind.json()
    assert on(plan, ARCHIVED_FOR_DELETE) == [("unarchive", "delete")]
    assert on(plan, TO_ARCHIVE) == []  # IsArchived is already true
    archived_now = {d["Id"] for d in bs_get(cli, "/v2/datasets?Limit=1024")["Items"] if d["IsArchived"]}
    archived_now |= {r["Id"] for r in bs_get(cli, "/v2/runs?Limit=1024")["Items"] if r["IsArchived"]}
    assert ARCHIVED_FOR_DELETE in archived_now
    assert not [a for a in plan["actions"] if a["action"] == "delete" and a["resource"]["id"] in archived_now]
    # repeating the requests is harmless: the work in flight keeps its due time
    due = {k: datasets_of(state)[k]["dueAt"] for k in (ARCHIVED_FOR_DELETE, TO_ARCHIVE)}
    repeated = fresh.apply()
    assert repeated.code == 0, repeated.stdout + repeated.stderr
    after = datasets_of(cli.state())
    assert {k: after[k]["dueAt"] for k in due} == due
    assert after[ARCHIVED_FOR_DELETE]["ArchiveStatus"] == "Restoring"

    # past timing.unarchive (6h): the restore is visible, the delete comes (from either ledger)
    cli.advance("7h")
    fresh.now = cli.now
    assert bs_get(cli, f"/v2/datasets/{ARCHIVED_FOR_DELETE}")["IsArchived"] is False
    later = cli.plan().json()
    assert on(later, ARCHIVED_FOR_DELETE) == [("delete", None)]
    assert on(later, TO_ARCHIVE) == [] and on(later, RUN_TO_ARCHIVE) == []
    assert on(fresh.plan().json(), ARCHIVED_FOR_DELETE) == [("delete", None)]
    done = cli.apply()
    assert done.code == 0, done.stdout + done.stderr
    assert ARCHIVED_FOR_DELETE not in datasets_of(cli.state())
    assert cli.plan().json()["actions"] == []


def test_applying_a_saved_plan_twice_asks_basespace_nothing_again(cli, tmp_path):
    """The second apply of the same saved plan: every action is already done; the BaseSpace archive and
    restore requests orch made are not repeated (BaseSpace shows no work in flight; the ledger does)."""
    saved = tmp_path / "plan.json"
    made = cli.plan(extra=("--out", str(saved)))
    assert made.code == 0, made.stderr
    kinds = {(a["action"], a["resource"]["kind"]) for a in made.json()["actions"]}
    assert {("archive", "bssh.dataset"), ("unarchive", "bssh.dataset")} <= kinds
    first = cli.apply_file(saved)
    assert first.code == 0, first.stdout + first.stderr

    def bulk_calls() -> int:
        counts = requests.get(cli.sandbox.control_url + "/requests", timeout=10).json()["by_route"]
        return sum(n for route, n in counts.items() if route in ("POST /v2/archive", "POST /v2/restore"))

    before = bulk_calls()
    second = cli.apply_file(saved)
    assert second.code == 0, second.stdout + second.stderr
    assert bulk_calls() == before
    assert "already requested by orch" in second.stdout + second.stderr
    assert " to " not in second.stdout.splitlines()[-1] and "already done" in second.stdout.splitlines()[-1]


def test_a_saved_delete_waits_while_orch_own_archive_of_the_dataset_is_in_flight(cli, tmp_path):
    """Two reviewed plans: one archives ds.old (made with a longer delete age), one deletes it. Applied
    back to back, the delete is refused while the archive is in flight (found by review: it used to run)."""
    import json

    p_arch, p_del = tmp_path / "archive.json", tmp_path / "delete.json"
    assert cli.plan("days_to_delete=120", extra=("--out", str(p_arch))).code == 0
    assert cli.plan(extra=("--out", str(p_del))).code == 0
    assert [a["action"] for a in json.loads(p_arch.read_text())["actions"] if a["resource"]["id"] == "ds.old"] == ["archive"]
    assert [a["action"] for a in json.loads(p_del.read_text())["actions"] if a["resource"]["id"] == "ds.old"] == ["delete"]
    cli.apply_file(p_arch)
    second = cli.apply_file(p_del)
    assert "ds.old" in datasets_of(cli.state())
    # IsArchived turned true with the archive request: the saved delete sees a changed dataset and refuses
    assert "refused-stale delete bssh.dataset M-5_L001 (ds.old)" in second.stdout + second.stderr
