"""Plan and apply rendering: content of the table, JSON and Markdown views, and the apply display."""

import io
import json
import re

import pytest
from rich.console import Console

from orch.engine.plan import ActionResult, ApplyReport, Outcome, Plan, PlanIssue, PlannedAction
from orch.engine.render import (
    ApplyProgress, apply_summary_line, make_console, print_plan, render_apply_summary, render_markdown, render_plan,
    render_table, short_name, summary_line,
)

from plan_samples import NOW, sample_actions, sample_plan  # noqa: F401

ERROR = PlanIssue("delete-ica-outputs", "ICA GET /api/projects/{projectId}/data failed: HTTP 503")


def rows_of(text: str) -> list[list[str]]:
    """Table body rows as cell lists (first physical line of each row)."""
    out = []
    for line in text.splitlines():
        if line.startswith("│"):
            out.append([c.strip() for c in line.strip("│").split("│")])
    return out


def test_summary_line_wording():
    assert summary_line(Plan.create(NOW)) == "No changes."
    assert summary_line(sample_plan()) == (
        "Plan: 2 to link, 1 manifest, 1 to mark managed, 1 to unarchive (then delete), 1 to delete.")
    archive = [PlannedAction.create("p", "g", "archive", {"kind": "ica.data", "id": f"d{i}", "name": "x"})
               for i in range(3)]
    many = Plan.create(NOW, archive + sample_actions()[2:3] + sample_actions()[5:6])
    assert summary_line(many) == "Plan: 2 to link, 3 to archive."
    assert summary_line(Plan.create(NOW, errors=[ERROR])) == "No changes. 1 error: the plan is incomplete."


def test_table_rows_grouped_by_policy_and_marked():
    text = render_table(sample_plan(), width=120)
    rows = [r for r in rows_of(text) if r[1]]  # rows that start an action (not continuation lines)
    assert [(r[0], r[1]) for r in rows] == [
        ("!", "delete"), ("!", "unarchive → delete"), ("+", "link"), ("+", "link"), ("+", "manifest"),
        ("+", "mark_managed")]
    # one compact name per resource: a file's base name, a folder's last segments, no id at 120 columns
    assert [r[2] for r in rows] == ["M-1_L001", "RUN_OLD/output/", "M-1_R1.fastq.gz", "M-2_R1.fastq.gz",
                                    "RUN_A-BclConvert-an-1", "RUN_A-BclConvert-an-1"]
    assert "ds.1" not in text and "/ilmn-analyses/" not in text
    assert rows[0][3].startswith("DateCreated older than 90d (won over") and "archive-basespace-datasets)" in text
    # policies appear as titles with their own summary, in plan order
    titles = [ln.strip() for ln in text.splitlines() if re.match(r"^[a-z-]+ \(group mgi\)", ln.strip())]
    assert titles == ["delete-basespace-datasets (group mgi): 1 to delete",
                      "delete-ica-outputs (group mgi): 1 to unarchive (then delete)",
                      "handoff-mgi-fastqs (group mgi): 2 to link, 1 manifest, 1 to mark managed"]
    assert "2 destructive actions" in text
    assert "Full paths and ids: orch plan --format json or --format markdown" in text
    assert text.rstrip().splitlines()[-1] == summary_line(sample_plan())


def test_wide_table_shows_kind_and_id_on_a_second_line():
    text = render_table(sample_plan(), width=160)
    lines = text.splitlines()
    first = next(i for i, ln in enumerate(lines) if "M-1_L001" in ln)
    assert lines[first + 1].split("│")[3].strip() == "bssh.dataset ds.1"
    assert any(ln.split("│")[3].strip() == "ica.data fol.9" for ln in lines if ln.count("│") == 5)


def link(n: int, run: str, reason: str | None = None) -> PlannedAction:
    return PlannedAction.create(
        "handoff", "", "link",
        {"kind": "ica.data", "id": f"fil.{run}.{n}", "name": f"S{n}.fastq.gz",
         "path": f"/ilmn-analyses/{run}_with_a_very_long_reference-BclConvert_v4_1_23-5c1e7a90/output/S{n}.fastq.gz"},
        {"to_project": "Ken_demos"}, reason=reason or f"link output file of analysis {run} into Ken_demos")


def test_files_of_one_analysis_share_one_reason():
    plan = Plan.create(NOW, [link(n, run) for run in ("RUN_A", "RUN_B") for n in range(1, 4)]
                       + [link(9, "RUN_C", reason="link output file of analysis RUN_C, alone")])
    text = render_table(plan, width=120)
    rows = rows_of(text)
    assert [r[2] for r in rows if r[1]] == ["S1.fastq.gz", "S2.fastq.gz", "S3.fastq.gz"] * 2 + ["S9.fastq.gz"]
    reasons = [r[3] for r in rows if r[1]]
    assert reasons == ["link output file of analysis RUN_A into Ken_demos [3 links]", "″", "″",
                       "link output file of analysis RUN_B into Ken_demos [3 links]", "″", "″",
                       "link output file of analysis RUN_C, alone — into Ken_demos"]
    assert len(rows) == 7  # one line per action: nothing wraps
    assert text.count("├") == 2  # a rule between analyses


def test_folder_names_keep_the_run_id_and_the_last_segment():
    long_ref = "20261119_LH00619_0021_B22CCFJLT4_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e"
    folder = PlannedAction.create("p", "", "archive", {"kind": "ica.data", "id": "fol.1", "name": "output",
                                                       "path": f"/ilmn-analyses/{long_ref}/output/"})
    name = short_name(folder.resource)
    assert name.startswith("20261119_LH00619_0021_B22CCFJLT4") and name.endswith("…/output/")
    assert len(name) <= 60
    analysis = {"kind": "ica.analysis", "id": "an", "name": long_ref, "user_reference": "20261119_LH00619_0021"}
    assert short_name(PlannedAction.create("p", "", "mark_managed", analysis).resource) == "20261119_LH00619_0021"
    trash = PlannedAction.create("p", "", "purge_trash", {"kind": "bssh.trash", "id": "trash"})
    assert short_name(trash.resource) == "the whole BaseSpace trash"


def test_large_plan_is_counted_and_every_destructive_action_still_listed():
    plan = Plan.create(NOW, [link(n, f"RUN_{n // 10}") for n in range(40)] + sample_actions())
    text = render_table(plan, width=120, max_rows=20)
    assert "46 actions: too many to list one per line" in text
    assert "orch plan --format json, or --format markdown" in text
    counts = {(r[1], r[2]): r[3] for r in rows_of(text) if r[1] and r[3].isdigit()}
    assert counts[("handoff", "link")] == "40"
    assert counts[("handoff-mgi-fastqs", "link")] == "2"
    assert counts[("handoff-mgi-fastqs", "manifest")] == counts[("delete-ica-outputs", "unarchive → delete")] == "1"
    assert "│ S0.fastq.gz, S1.fastq.gz, S2.fastq.gz, … " in text
    # both destructive actions are listed one by one with their policy
    assert "Every destructive action" in text
    listed = [r for r in rows_of(text.split("Every destructive action")[1]) if r[2]]
    assert [(r[1], r[2], r[3]) for r in listed] == [
        ("delete-basespace-datasets", "delete", "bssh.dataset M-1_L001"),
        ("delete-ica-outputs", "unarchive → delete", "ica.data RUN_OLD/output/")]
    assert "S5.fastq.gz" not in text
    assert text.rstrip().splitlines()[-1] == summary_line(plan)


def test_large_plan_with_too_many_destructive_actions_says_so():
    deletes = [PlannedAction.create("lifecycle", "", "delete", {"kind": "bssh.dataset", "id": f"ds.{n}",
                                                                "name": f"D{n}"}) for n in range(30)]
    text = render_table(Plan.create(NOW, deletes), width=120, max_rows=10)
    assert "The 30 destructive actions are too many to list here" in text
    assert "30 destructive actions: data will be deleted." in text


def test_table_shows_errors_and_never_wraps_the_summary():
    plan = sample_plan(errors=[ERROR])
    text = render_table(plan, width=60)
    assert "1 error" in text and "✗ delete-ica-outputs:" in text
    assert summary_line(plan) in text.splitlines()  # one line even when wider than the console
    assert all(len(ln) <= 60 for ln in text.splitlines() if ln != summary_line(plan))


def test_narrow_and_empty_tables_render():
    text = render_table(sample_plan(), width=40)
    assert "M-1_L001" in text and all(len(ln) <= 40 for ln in text.splitlines()[:-1])
    assert render_table(Plan.create(NOW), width=80) == "No changes.\n"


def test_destructive_rows_are_bold_red():
    text = render_table(sample_plan(), width=160, color=True)
    line = next(ln for ln in text.splitlines() if "delete" in ln and "M-1_L001" in ln)
    assert "\x1b[1;31m" in line  # bold red
    link = next(ln for ln in text.splitlines() if "M-1_R1.fastq.gz" in ln and "link" in ln)
    assert "\x1b[1;31mlink" not in link


def test_table_is_deterministic():
    plan = sample_plan()
    assert render_table(plan, width=100) == render_table(Plan.loads(plan.to_json()), width=100)


def test_json_format_is_the_plan_file():
    plan = sample_plan()
    out = render_plan(plan, "json")
    assert json.loads(out) == json.loads(plan.to_json())
    assert Plan.loads(out).to_json() == plan.to_json()


def test_markdown_has_summary_tables_warning_and_errors():
    md = render_markdown(sample_plan(errors=[ERROR]))
    assert md.splitlines()[2] == "**" + summary_line(sample_plan(errors=[ERROR])) + "**"
    assert "> [!CAUTION]" in md and "**This plan deletes data:** 1 to unarchive (then delete), 1 to delete." in md
    assert "> [!WARNING]" in md and "> - `delete-ica-outputs`: ICA GET /api/projects/{projectId}/data failed" in md
    headings = [ln for ln in md.splitlines() if ln.startswith("#### ")]
    assert headings == ["#### `delete-basespace-datasets` (group `mgi`): 1 to delete",
                        "#### `delete-ica-outputs` (group `mgi`): 1 to unarchive (then delete)",
                        "#### `handoff-mgi-fastqs` (group `mgi`): 2 to link, 1 manifest, 1 to mark managed"]
    table_rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| |")]
    assert len(table_rows) == 6
    assert table_rows[0].startswith("| ⚠️ | **delete** | `bssh.dataset` `M-1_L001`<br>`ds.1` |")
    assert table_rows[2].startswith("| + | link | `ica.data` `/ilmn-analyses/RUN_A/output/M-1_R1.fastq.gz`")
    assert all(row.count(" | ") == 3 for row in table_rows)  # four cells each: nothing breaks the table
    assert "- var `source_project` = `ken_debug`" in md


def test_markdown_keeps_full_paths_and_ids_and_states_a_shared_reason_once():
    md = render_markdown(Plan.create(NOW, [link(n, "RUN_A") for n in range(1, 4)]))
    rows = [ln for ln in md.splitlines() if ln.startswith("| + |")]
    assert len(rows) == 3 and all(row.count(" | ") == 3 for row in rows)
    assert "`/ilmn-analyses/RUN_A_with_a_very_long_reference-BclConvert_v4_1_23-5c1e7a90/output/S1.fastq.gz`" \
           "<br>`fil.RUN_A.1`" in rows[0]
    assert rows[0].endswith("| link output file of analysis RUN_A into Ken_demos [3 links] |")
    assert rows[1].endswith("| ″ |") and rows[2].endswith("| ″ |")


def test_markdown_escapes_table_breakers():
    a = PlannedAction.create("p", "", "tag", {"kind": "ica.data", "id": "fil.x", "name": "a|b`c"},
                             reason="line one\nline | two")
    md = render_markdown(Plan.create(NOW, [a]))
    row = next(ln for ln in md.splitlines() if "fil.x" in ln)
    assert "line one<br>line \\| two" in row and "a\\|b`c" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5


def test_markdown_without_changes():
    md = render_markdown(Plan.create(NOW))
    assert "**No changes.**" in md and "CAUTION" not in md and "WARNING" not in md and "| action |" not in md


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown plan format"):
        render_plan(sample_plan(), "yaml")


def test_print_plan_writes_to_console():
    console = make_console(120)
    print_plan(sample_plan(), "markdown", console)
    assert console.file.getvalue() == render_markdown(sample_plan())


def report() -> ApplyReport:
    acts = sample_plan().actions  # delete, unarchive→delete, link 1, link 2, manifest, mark_managed
    return ApplyReport([
        ActionResult(acts[0], Outcome.FAILED, "BaseSpace DELETE /v2/datasets/{id} failed: HTTP 500"),
        ActionResult(acts[1], Outcome.REFUSED_STALE, "status is now AVAILABLE (plan: ARCHIVED)"),
        ActionResult(acts[2], Outcome.DONE),
        ActionResult(acts[3], Outcome.SKIPPED, "already linked"),
        ActionResult(acts[3], Outcome.NOT_RUN, "a dependency failed"),
        ActionResult(acts[4], Outcome.REFUSED, "protected: name RUN_A-BclConvert-an-1"),
    ])


def test_apply_summary_lists_every_problem_in_full_and_one_line():
    text = render_apply_summary(report(), width=80)
    lines = text.splitlines()
    assert lines[0] == "4 actions not done:"
    assert lines[1] == ("✗ failed        delete bssh.dataset M-1_L001 (ds.1) [delete-basespace-datasets] — "
                        "BaseSpace DELETE /v2/datasets/{id} failed: HTTP 500")  # never wrapped, full path and id
    assert lines[2].startswith("! refused-stale unarchive → delete ica.data /ilmn-analyses/RUN_OLD/output/ (fol.9)")
    assert lines[2].endswith("— status is now AVAILABLE (plan: ARCHIVED)")
    assert lines[3].startswith("- not-run       link ica.data /ilmn-analyses/RUN_A/output/M-2_R1.fastq.gz (fil.2)")
    assert lines[4].startswith("! refused       manifest ica.analysis RUN_A-BclConvert-an-1 (an-1)")
    assert "protected: name" in lines[4]
    assert "done" not in "".join(lines[1:5]).replace("not done", "")  # done and skipped are not listed
    assert lines[5] == ("Apply failed: 4 of 6 actions not done (1 refused-stale, 1 refused, 1 failed, 1 not-run). "
                        "Resources: 1 linked, 1 already done.")
    assert len(lines) == 6


def test_apply_summary_line_counts_what_was_done():
    acts = sample_plan().actions
    done = ApplyReport([ActionResult(a, Outcome.DONE) for a in acts] + [ActionResult(acts[2], Outcome.SKIPPED)])
    assert apply_summary_line(done) == ("Apply complete! Resources: 2 linked, 1 manifest written, 1 marked managed, "
                                        "1 unarchive requested, 1 deleted, 1 already done.")
    assert render_apply_summary(done).splitlines() == [apply_summary_line(done)]
    assert apply_summary_line(ApplyReport()) == "Apply: nothing to do."
    skipped = ApplyReport([ActionResult(acts[2], Outcome.SKIPPED, "already linked")])
    assert apply_summary_line(skipped) == "Apply complete! Resources: 1 already done."


def test_progress_log_mode_prints_one_line_per_result():
    console = make_console(60)  # not a terminal: cron and CI logs
    results = report().results
    with ApplyProgress(len(results), console=console) as progress:
        for r in results:
            progress.start(r.action)
            progress.finish(r)
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 6  # one line each, never wrapped even when wider than the console
    assert lines[0].startswith("✗ failed        delete bssh.dataset M-1_L001 (ds.1) [delete-basespace-datasets]")
    assert lines[2] == "✓ done          link ica.data M-1_R1.fastq.gz"  # done: the compact name
    assert lines[3] == "= skipped       link ica.data M-2_R1.fastq.gz — already linked"
    assert lines[4].startswith("- not-run       link ica.data /ilmn-analyses/RUN_A/output/M-2_R1.fastq.gz")


def test_progress_bar_mode_prints_only_problems():
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    results = report().results
    with ApplyProgress(len(results), console=console, transient=True) as progress:
        assert progress.bar
        for r in results:
            progress.start(r.action)
            progress.finish(r)
    out = console.file.getvalue()
    assert "✗ failed" in out and "! refused-stale" in out and "- not-run" in out and "! refused " in out
    assert "✓ done" not in out and "= skipped" not in out
