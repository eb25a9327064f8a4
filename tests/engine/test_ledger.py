"""The ledger: durability (WAL), legacy import/export, the apply lock, audit log and cache."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orch.engine.ledger import LEGACY_HEADER, Ledger, parse_legacy
from orch.engine.plan import ActionResult, Outcome, PlannedAction
from orch.errors import ConfigError, OrchError

A = "5c1e8d2a-0000-4000-8000-00000000000a"
B = "6d2f9e3b-0000-4000-8000-00000000000b"
C = "7e3a0f4c-0000-4000-8000-00000000000c"
D = "8f4b1a5d-0000-4000-8000-00000000000d"


def ref(run, aid):
    return f"{run}-BclConvert_v4_1_23-{aid}"


def test_creates_parent_folders_and_uses_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "state.db"
    with Ledger(path) as ledger:
        assert ledger.mark_managed(A, ref("RUN_A", A), "handoff", "prj-1")
        assert not ledger.mark_managed(A, "other", "handoff")  # first entry kept
    assert path.exists()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT reference, policy, project_id FROM managed").fetchall() == [
        (ref("RUN_A", A), "handoff", "prj-1")]


def test_managed_queries(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.mark_managed(A, "ra", "p")
        ledger.mark_managed(B, "rb", "p")
        assert ledger.is_managed(A) and ledger.is_managed(A.upper()) and not ledger.is_managed(C)
        assert ledger.managed_ids() == {A, B}
        assert [m.analysis_id for m in ledger.managed()] == [A, B]


def test_committed_write_survives_kill_9(tmp_path):
    path = tmp_path / "state.db"
    script = textwrap.dedent(f"""
        import sys, time
        from orch.engine.ledger import Ledger
        ledger = Ledger({str(path)!r})
        ledger.mark_managed({A!r}, "RUN_A", "handoff")
        ledger.record_raw(action_id="0123456789abcdef", policy="handoff", action="link",
                      resource_kind="ica.data", resource_id="fil.1", outcome="done")
        print("committed", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "committed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "state.db-wal").exists()  # the data lives in the WAL, not yet checkpointed
    with Ledger(path) as ledger:
        assert ledger.is_managed(A)
        assert [(h.action, h.outcome) for h in ledger.history(10)] == [("link", "done")]


DAMAGED = (
    f"{LEGACY_HEADER}\n"
    f"{A},{ref('RUN_A', A)}\n"
    "\n"
    f"{B},{ref('RUN_B', B)}{C},{ref('RUN_C', C)}\n"      # two rows glued together
    f"{A},{ref('RUN_A', A)}\n"                            # duplicate
    "   \n"
    f"{D},{ref('RUN_D', D)}\n"
    "8c1e8d2a-1111-22"                                    # half-written last row, no newline
)


def test_legacy_import_tolerates_known_damage(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        report = ledger.import_legacy(DAMAGED, source="analyses_managed_table.txt")
        assert sorted(i for i, _ in report.imported) == [A, B, C, D]
        assert dict(report.imported)[B] == ref("RUN_B", B)  # the glued row is split at the id, not inside it
        assert dict(report.imported)[C] == ref("RUN_C", C)
        assert report.duplicates == 1 and report.glued_lines == 1
        assert [(line, why) for line, _, why in report.skipped] == [
            (8, "half-written last row without a complete analysis id")]
        text = str(report)
        assert text.splitlines()[0] == ("imported 4 managed analyses from analyses_managed_table.txt "
                                        "(1 duplicate row ignored, 1 line with rows glued together split, "
                                        "1 skipped)")
        assert "skipped line 8" in text
        assert ledger.managed_ids() == {A, B, C, D}

        again = ledger.import_legacy(DAMAGED, source="t")
        assert again.imported == [] and sorted(again.already_present) == [A, B, C, D]


def test_legacy_round_trip(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.import_legacy(DAMAGED, source="t")
        exported = ledger.export_legacy()
    lines = exported.splitlines()
    assert exported.endswith("\n") and lines[0] == LEGACY_HEADER
    assert lines[1:] == [f"{A},{ref('RUN_A', A)}", f"{B},{ref('RUN_B', B)}", f"{C},{ref('RUN_C', C)}",
                         f"{D},{ref('RUN_D', D)}"]
    with Ledger(tmp_path / "t.db") as fresh:
        fresh.import_legacy(exported, source="x")
        assert fresh.export_legacy() == exported


def test_legacy_half_rows_keep_the_id():
    rows, report = parse_legacy(f"{LEGACY_HEADER}\n{A},{ref('RUN_A', A)}{B}")  # id-only row glued on
    assert [(a, r) for _, a, r in rows] == [(A, ref("RUN_A", A)), (B, "")]
    rows, report = parse_legacy(f"{A},\n{B}\r\n")  # no header, CRLF, empty run_id, id alone
    assert [(a, r) for _, a, r in rows] == [(A, ""), (B, "")]
    assert len(report.warnings) == 2 and "half-written" in report.warnings[0][1]
    rows, _ = parse_legacy(f"{LEGACY_HEADER}{A},RUN_A\n")  # header glued to the first row
    assert [(a, r) for _, a, r in rows] == [(A, "RUN_A")]
    # the id of a crashed row, then the next run's row glued on (found by review: the id was skipped)
    rows, report = parse_legacy(f"{LEGACY_HEADER}\n{A}{B},{ref('RUN_B', B)}\n")
    assert [(a, r) for _, a, r in rows] == [(A, ""), (B, ref("RUN_B", B))]
    assert not report.skipped and "half-written" in report.warnings[0][1]


UUIDS = st.uuids(version=4).map(str)
REFS = st.from_regex(r"[A-Za-z0-9_]{1,12}(-[A-Za-z0-9_]{1,10})?", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(UUIDS, REFS, st.booleans()), min_size=1, max_size=12, unique_by=lambda t: t[0]),
       st.data())
def test_legacy_parser_recovers_every_complete_row(rows, data):
    """However rows are glued, duplicated or spaced, every complete row comes back exactly once."""
    # references in the wild often end with the analysis id; mix both shapes
    rows = [(aid, f"{r}-{aid}" if with_id else r) for aid, r, with_id in rows]
    pieces = [LEGACY_HEADER + "\n"] if data.draw(st.booleans(), "header") else []
    for i, (aid, r) in enumerate(rows):
        pieces.append(f"{aid},{r}")
        sep = data.draw(st.sampled_from(["\n", "\n", "\r\n", "\n\n", "", "\n  \n"]), f"sep{i}")
        pieces.append(sep)
        if data.draw(st.booleans(), f"dup{i}"):
            pieces.append(f"{aid},{r}\n")
    text = "".join(pieces)
    parsed, _ = parse_legacy(text)
    assert {(a, r) for _, a, r in parsed} == {(a.lower(), r) for a, r in rows}


def test_foreign_file_is_refused(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        with pytest.raises(ConfigError, match="does not look like analyses_managed_table.txt"):
            ledger.import_legacy("name,size\nfoo,1\n", source="other.csv")
        assert ledger.managed_ids() == set()


def test_audit_log_records_results(tmp_path):
    action = PlannedAction.create("p", "g", "link", {"kind": "ica.data", "id": "fil.1", "name": "a.fastq.gz"})
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.record(ActionResult(action, Outcome.DONE, "linked"))
        ledger.record(ActionResult(action, Outcome.FAILED, "HTTP 500"))
        hist = ledger.history(10)
        assert [(h.action_id, h.outcome, h.message) for h in hist] == [
            (action.id, "failed", "HTTP 500"), (action.id, "done", "linked")]
        assert hist[0].resource_name == "a.fastq.gz" and len(ledger.history(1)) == 1
        with pytest.raises(ValueError):
            ledger.record_raw(action_id="x", policy="", action="link", resource_kind="ica.data", resource_id="r",
                              outcome="done")


def test_recording_a_done_mark_managed_marks_the_analysis(tmp_path):
    analysis = {"kind": "ica.analysis", "id": A, "project_id": "prj-src", "name": ref("RUN_A", A),
                "reference": ref("RUN_A", A)}
    done = PlannedAction.create("handoff", "mgi", "mark_managed", analysis)
    other = PlannedAction.create("handoff", "mgi", "mark_managed", {**analysis, "id": B})
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.record(ActionResult(other, Outcome.NOT_RUN, "a dependency failed"))
        assert not ledger.is_managed(B)
        ledger.record(ActionResult(done, Outcome.DONE))
        assert [(m.analysis_id, m.reference, m.policy, m.project_id) for m in ledger.managed()] == [
            (A, ref("RUN_A", A), "handoff", "prj-src")]
        ledger.record(ActionResult(done, Outcome.DONE))  # recorded twice: still one entry
        assert len(ledger.managed()) == 1 and len(ledger.history()) == 3


def test_concurrent_records_from_threads(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        def work(n):
            for i in range(20):
                ledger.record_raw(action_id=f"{n}-{i}", policy="p", action="link", resource_kind="ica.data",
                              resource_id=str(i), outcome="done")
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ledger.history(1000)) == 80


def test_cache(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.cache_get(("fil.1", "etag-1")) is None
        ledger.cache_put(("fil.1", "etag-1"), {"Projects": {"P": {"Name": "bs_a"}}})
    with Ledger(tmp_path / "s.db") as ledger:
        assert ledger.cache_get(("fil.1", "etag-1")) == {"Projects": {"P": {"Name": "bs_a"}}}
        assert ledger.cache_get(("fil.1", "etag-2")) is None


def test_not_a_database(tmp_path):
    bad = tmp_path / "state.db"
    bad.write_text("hello, I am not SQLite" * 100)
    with pytest.raises(ConfigError, match="not a usable orch state database"):
        Ledger(bad)


def test_second_apply_waits_then_fails_clearly(tmp_path):
    path = tmp_path / "state.db"
    script = textwrap.dedent(f"""
        import time
        from orch.engine.ledger import Ledger
        with Ledger({str(path)!r}) as ledger, ledger.apply_lock():
            print("locked", flush=True)
            time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with Ledger(path) as ledger:
            start = time.monotonic()
            with pytest.raises(OrchError) as err:
                with ledger.apply_lock(timeout_s=0.5):
                    pytest.fail("acquired a held lock")
            waited = time.monotonic() - start
        assert 0.5 <= waited < 5
        msg = str(err.value)
        assert "another orch apply is running" in msg and f"process {proc.pid}" in msg and "\n" not in msg
    finally:
        proc.kill()
        proc.wait()
    with Ledger(path) as ledger, ledger.apply_lock(timeout_s=1):  # released when the holder died
        pass


def test_lock_holds_through_a_symlinked_state_file(tmp_path):
    """Found by review: a symlink to the same database used its own lock file."""
    real = tmp_path / "state.db"
    Ledger(real).close()
    link = tmp_path / "ledger-link.db"
    link.symlink_to(real)
    with Ledger(real) as a, Ledger(link) as b, a.apply_lock():
        with pytest.raises(OrchError):
            with b.apply_lock(timeout_s=0.3):
                pytest.fail("acquired a held lock through a symlink")


def test_lock_is_released_after_use(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        with ledger.apply_lock(timeout_s=0.2):
            pass
        with ledger.apply_lock(timeout_s=0.2):
            pass
