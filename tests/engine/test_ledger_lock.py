"""The apply lock follows the database file, not its name: a hard link or another spelling of
``--state`` cannot run a second apply at once (issue 16.5); a dead holder never blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from orch.engine.ledger import Ledger
from orch.errors import OrchError


def hold(path) -> subprocess.Popen:
    """Another process holding the apply lock through ``path`` until killed."""
    script = textwrap.dedent(f"""
        import time
        from orch.engine.ledger import Ledger
        with Ledger({str(path)!r}) as ledger, ledger.apply_lock():
            print("locked", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.parametrize("name", ["hard link in another folder", "other spelling"])
def test_a_second_name_of_the_database_waits_for_the_lock(tmp_path, name):
    real = tmp_path / "a" / "state.db"
    Ledger(real).close()
    if name == "hard link in another folder":
        (tmp_path / "b").mkdir()
        other = tmp_path / "b" / "copy.db"
        os.link(real, other)
        assert os.path.realpath(other) != os.path.realpath(real)  # its own lock file
    else:
        other = tmp_path / "a" / ".." / "a" / "." / "state.db"
    proc = hold(real)
    try:
        with Ledger(other) as ledger:
            with pytest.raises(OrchError) as err:
                with ledger.apply_lock(timeout_s=0.5):
                    pytest.fail(f"two applies at once through a {name}")
        assert f"process {proc.pid}" in str(err.value) and "another orch apply is running" in str(err.value)
    finally:
        proc.kill()
        proc.wait()


def test_a_holder_that_was_killed_leaves_no_stale_lock(tmp_path):
    real = tmp_path / "state.db"
    Ledger(real).close()
    link = tmp_path / "link.db"
    os.link(real, link)
    proc = hold(link)
    os.kill(proc.pid, signal.SIGKILL)  # no clean-up ran: its row is still in the database
    proc.wait()
    with Ledger(real) as ledger:
        with ledger.apply_lock(timeout_s=2):
            pass
        with ledger.apply_lock(timeout_s=0.2):  # released on exit
            pass


def test_the_same_process_through_two_names_is_refused_too(tmp_path):
    real = tmp_path / "state.db"
    Ledger(real).close()
    os.link(real, tmp_path / "h.db")
    with Ledger(real) as a, Ledger(tmp_path / "h.db") as b, a.apply_lock():
        with pytest.raises(OrchError):
            with b.apply_lock(timeout_s=0.2):
                pass
