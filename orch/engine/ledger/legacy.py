"""The old script's managed table ``analyses_managed_table.txt`` (``analysis_id_managed,run_id``).

``parse_legacy`` reads it tolerating its damage; ``LegacyMixin`` imports it into one group's
hand-off records and exports records back in its format, with the run folder name as ``run_id``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from orch.engine.ledger.records import UNASSIGNED
from orch.engine.ledger.schema import LEGACY_POLICY
from orch.errors import ConfigError
from orch.timeutil import format_ts, utcnow

LEGACY_HEADER = "analysis_id_managed,run_id"

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_RE = re.compile(rf"^{_UUID}$")
#: where a row starts: an analysis id followed by a comma (rows glued together are split here)
_ROW_START = re.compile(rf"({_UUID}),")
#: a reference that ends in two ids: the second is a half row (id only) glued to it
_TRAILING_ID = re.compile(rf"({_UUID})({_UUID})$")


@dataclass
class ImportReport:
    """What ``import_legacy`` did; ``str()`` is what ``orch ledger import`` prints."""

    source: str
    group: str = UNASSIGNED
    imported: list[tuple[str, str]] = field(default_factory=list)  # (analysis id, reference)
    already_present: list[str] = field(default_factory=list)
    duplicates: int = 0
    glued_lines: int = 0  # lines that held more than one row
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, why)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, what)

    def __str__(self) -> str:
        parts = [f"imported {len(self.imported)} managed "
                 f"analys{'is' if len(self.imported) == 1 else 'es'} from {self.source}"
                 + (f" for group {self.group}" if self.group else "")]
        notes = []
        if self.already_present:
            notes.append(f"{len(self.already_present)} already in the ledger")
        if self.duplicates:
            notes.append(f"{self.duplicates} duplicate row{'s' if self.duplicates != 1 else ''} ignored")
        if self.glued_lines:
            notes.append(f"{self.glued_lines} line{'s' if self.glued_lines != 1 else ''} with rows glued "
                         f"together split")
        if self.skipped:
            notes.append(f"{len(self.skipped)} skipped")
        if notes:
            parts[0] += f" ({', '.join(notes)})"
        for line, text, why in self.skipped:
            parts.append(f"skipped line {line}: {why}: {_clip(text)!r}")
        for line, what in self.warnings:
            parts.append(f"warning line {line}: {what}")
        return "\n".join(parts)


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def parse_legacy(text: str) -> tuple[list[tuple[int, str, str]], ImportReport]:
    """Split the legacy table into rows ``(line, analysis_id, reference)`` and a report of damage.

    Tolerates: a missing final newline, blank lines, CRLF, a missing header, rows glued together
    (a row is ``UUID,reference``, so every ``UUID,`` starts one), a half row holding just an id
    (alone, glued after a row, or glued before the next one), and skips (with a reason) fragments that hold no complete analysis id.
    Duplicates are left to the caller.
    """
    report = ImportReport(source="")
    rows: list[tuple[int, str, str]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ends_with_newline = text.endswith(("\n", "\r"))
    last_no = max((i for i, ln in enumerate(lines, 1) if ln.strip()), default=0)
    for no, raw in enumerate(lines, 1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith(LEGACY_HEADER):
            line = line[len(LEGACY_HEADER):]  # a header with a row glued to it
            if not line:
                continue
        elif no == 1 and line.lower().startswith("analysis_id"):
            report.skipped.append((no, raw, "unknown header"))
            continue
        starts = list(_ROW_START.finditer(line))
        if not starts:
            if _UUID_RE.match(line):  # an id whose comma and reference were never written
                rows.append((no, line.lower(), ""))
                report.warnings.append((no, f"{line} has no run_id (half-written row); imported without it"))
            elif no == last_no and not ends_with_newline:
                report.skipped.append((no, raw, "half-written last row without a complete analysis id"))
            else:
                report.skipped.append((no, raw, "no analysis id (a UUID) at the start of the row"))
            continue
        if starts[0].start() > 0:
            before = line[: starts[0].start()]
            if _UUID_RE.match(before):  # "<half row id><next row>": an id whose comma and run_id were never written
                rows.append((no, before.lower(), ""))
                report.glued_lines += 1
                report.warnings.append((no, f"{before.lower()} has no run_id (half-written row); imported without it"))
            else:
                report.skipped.append((no, before, "text before the first analysis id"))
        if len(starts) > 1:
            report.glued_lines += 1
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            analysis_id = m.group(1).lower()
            reference = line[m.end():end].strip()
            tail = _TRAILING_ID.search(reference)
            if tail and tail.group(1).lower() == analysis_id:  # "ref-<id><half row id>"
                reference = reference[: tail.start(2)]
                rows.append((no, analysis_id, reference))
                rows.append((no, tail.group(2).lower(), ""))
                report.glued_lines += 1 if len(starts) == 1 else 0
                report.warnings.append((no, f"{tail.group(2).lower()} has no run_id (half-written row); "
                                            f"imported without it"))
                continue
            if not reference:
                report.warnings.append((no, f"{analysis_id} has no run_id (half-written row); imported without it"))
            elif "," in reference:
                report.warnings.append((no, f"{analysis_id}: extra columns after run_id ignored"))
                reference = reference.split(",", 1)[0]
            rows.append((no, analysis_id, reference))
    return rows, report


class LegacyMixin:
    """``Ledger.import_legacy`` / ``Ledger.export_legacy`` (mixed into Ledger)."""

    def import_legacy(self, text: str, source: str, group: str | None = None) -> ImportReport:
        """Import the legacy table as ``group``'s hand-offs; existing records are kept. One transaction.

        The legacy table belongs to one group: without ``group``, the ledger's only group is used
        (UNASSIGNED when it holds none), and a ledger holding several groups refuses.
        """
        rows, report = parse_legacy(text)
        report.source = source
        if not rows and report.skipped:
            raise ConfigError(f"{source} does not look like analyses_managed_table.txt "
                              f"({LEGACY_HEADER}): no row starts with an analysis id")
        if group is None:
            groups = sorted(self.groups())
            if len(groups) > 1:
                raise ConfigError(f"the ledger holds hand-offs of several groups ({', '.join(groups)}): say whose "
                                  f"table {source} is with --group GROUP")
            group = groups[0] if groups else UNASSIGNED
        report.group = group
        seen: dict[str, str] = {}
        when = format_ts(utcnow())
        with self._tx() as db:
            for no, analysis_id, reference in rows:
                if analysis_id in seen:
                    report.duplicates += 1
                    if reference and seen[analysis_id] and reference != seen[analysis_id]:
                        report.warnings.append((no, f"{analysis_id} appears again with run_id {reference!r}; "
                                                    f"kept {seen[analysis_id]!r}"))
                    continue
                seen[analysis_id] = reference
                if self._has_record(db, analysis_id, group):
                    report.already_present.append(analysis_id)
                    continue
                self._insert_managed(db, group=group, policy=LEGACY_POLICY, analysis_id=analysis_id,
                                     reference=reference, run_id=reference, managed_at=when, source=source)
                report.imported.append((analysis_id, reference))
        return report

    def export_legacy(self, group: str | None = None) -> str:
        """Hand-offs (of ``group``, or of all groups) in the legacy format: header, one row per
        analysis sorted by id, ``run_id`` the run folder name, newline-terminated."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        buf.write(LEGACY_HEADER + "\n")
        sql = "SELECT analysis_id, MIN(run_id) FROM managed"
        args: tuple = ()
        if group is not None:
            sql += " WHERE grp = ?"
            args = (group,)
        for analysis_id, run_id in self._query(sql + " GROUP BY analysis_id ORDER BY analysis_id", args):
            writer.writerow([analysis_id, run_id])
        return buf.getvalue()
