"""The apply view: one line per result, live progress, and the Terraform-like summary.

Apply shows a progress bar on a terminal and one line per action elsewhere (cron logs); the
summary lists every action not done in full, then one Terraform-like line.
"""

from __future__ import annotations

import threading
from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from orch.engine.plan import ActionResult, ApplyReport, Outcome, PlannedAction
from orch.engine.kinds import ordered
from orch.engine.plan_text import DEFAULT_WIDTH, kind_phrase, make_console, plural, resource_label, short_label, \
    short_name

_OUTCOME_STYLE = {
    Outcome.DONE: ("✓", "green"),
    Outcome.SKIPPED: ("=", "dim"),
    Outcome.REFUSED_STALE: ("!", "yellow"),
    Outcome.REFUSED: ("!", "yellow"),
    Outcome.FAILED: ("✗", "bold red"),
    Outcome.NOT_RUN: ("-", "dim red"),
}



def result_line(result: ActionResult, full: bool = False) -> Text:
    """One line per result: ``✓ done          link M-1_R1.fastq.gz — message``. ``full``: the
    kind, full path and id (for problems, so they can be found and retried)."""
    symbol, style = _OUTCOME_STYLE[result.outcome]
    a = result.action
    text = Text()
    text.append(f"{symbol} {result.outcome.value:<13} ", style=style)
    text.append(f"{a.display_action()} ", style="bold red" if a.destructive else "")
    if full:
        text.append(resource_label(a))
        if a.resource.kind != "bssh.trash" and a.resource.label() != a.resource.id:
            text.append(f" ({a.resource.id})", style="dim")
        text.append(f" [{a.policy}]", style="dim")
    else:
        text.append(short_label(a))
    if result.message:
        text.append(f" — {result.message}", style="dim" if result.ok else style)
    return text


class ApplyProgress:
    """Live progress of an apply.

    On a terminal: a Rich progress bar (counts of failures in its description); problems are
    printed above it as they happen. Elsewhere (cron, CI logs): one plain line per finished
    action, nothing redrawn. The applier calls it from one thread; the plain-line writes still take a lock
    so that a caller with threads (``orch watch``) cannot interleave lines.
    """

    def __init__(self, total: int, console: Console | None = None, transient: bool = True,
                 bar: bool | None = None):
        self.console = console or Console(stderr=True)
        self.bar = self.console.is_terminal if bar is None else bar
        self._problems = 0
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        if self.bar:
            self._progress = Progress(
                TextColumn("[bold]apply"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.description}", style="dim"),
                console=self.console, transient=transient)
            self._task = self._progress.add_task("", total=total)

    def __enter__(self) -> "ApplyProgress":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _description(self, action: PlannedAction | None) -> str:
        now = f"{action.display_action()} {short_name(action.resource)}" if action is not None else ""
        bad = f"{self._problems} not done  " if self._problems else ""
        return bad + now

    def start(self, action: PlannedAction) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=self._description(action))

    def finish(self, result: ActionResult) -> None:
        if self._progress is None:
            line = result_line(result, full=not result.ok)
            if self.console.no_color or self.console.color_system is None:  # a log: plain text, fast
                with self._lock:
                    self.console.file.write(line.plain + "\n")
            else:
                self.console.print(line, soft_wrap=True)
            return
        if not result.ok:
            self._problems += 1
            self._progress.console.print(result_line(result, full=True), soft_wrap=True)
        self._progress.update(self._task, advance=1, description=self._description(None))


def done_phrases(report: ApplyReport) -> list[str]:
    """``12 linked``, ``2 manifests written``, ... for the actions done; ``3 already done``."""
    counts = Counter(r.action.action for r in report.results if r.outcome == Outcome.DONE)
    out = [kind_phrase(k, counts[k], done=True) for k in ordered(counts)]
    skipped = sum(1 for r in report.results if r.outcome == Outcome.SKIPPED)
    if skipped:
        out.append(f"{skipped} already done")
    return out


def apply_summary_line(report: ApplyReport) -> str:
    """Terraform-like: ``Apply complete! Resources: 12 linked, 2 manifests written, 1 already done.``
    or ``Apply failed: 2 of 29 actions not done (1 failed, 1 refused). Resources: ...``."""
    if not report.results:
        return "Apply: nothing to do."
    done = ", ".join(done_phrases(report)) or "none changed"
    if report.exit_code == 0:
        return f"Apply complete! Resources: {done}."
    bad = [r for r in report.results if not r.ok]
    counts = ", ".join(f"{n} {k}" for k, n in report.counts.items() if not Outcome(k).ok)
    return (f"Apply failed: {len(bad)} of {len(report.results)} action{plural(len(report.results))} "
            f"not done ({counts}). Resources: {done}.")


def apply_summary_renderable(report: ApplyReport) -> RenderableType:
    """Every action that was not done, in full (kind, path, id, policy, why); nothing for the rest."""
    bad = [r for r in report.results if not r.ok]
    if not bad:
        return Group()
    lines = [Text(f"{len(bad)} action{plural(len(bad))} not done:", style="bold red")]
    lines += [result_line(r, full=True) for r in bad]
    return Group(*lines)


def print_apply_summary(report: ApplyReport, console: Console) -> None:
    """The problems (never wrapped: one line each, for grep and mail) and the summary line."""
    for line in apply_summary_renderable(report).renderables:
        console.print(line, soft_wrap=True)
    console.print(Text(apply_summary_line(report), style="bold" if report.exit_code == 0 else "bold red"),
                  soft_wrap=True)


def render_apply_summary(report: ApplyReport, width: int = DEFAULT_WIDTH) -> str:
    console = make_console(width)
    print_apply_summary(report, console)
    return console.file.getvalue()
