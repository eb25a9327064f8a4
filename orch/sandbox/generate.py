"""Realistic sandbox worlds of any size (``orch sandbox generate``), deterministic for a seed.

The world mirrors a BCLConvert-on-ICA deployment like the MGI one: a source project ``ken_debug``
with BCLConvert analyses named by Illumina run folders (plus some DRAGEN analyses and some still
running), output folders laid out like BCL Convert's (``Samples/Lane_N/`` FASTQs named from a sample
sheet, ``Reports/``, ``Logs/``), about ``bssh_fraction`` of them BaseSpace-managed (``bsshoutput.json``
naming BaseSpace projects that hold one dataset per sample and lane, and a BaseSpace run named by the
run folder), the rest ICA-managed. Ages are spread over the young (< 60 d), archive (60-90 d) and
delete (> 90 d) windows; some old data is already archived. The destination project ``Ken_demos``
holds earlier hand-offs (linked MGI FASTQs and their download manifests).

Sizes: ``analyses`` analyses in the source project, each with exactly ``files_per_analysis`` files
under its output folder. Running analyses have their files still ``PARTIAL``.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any


from orch.errors import ConfigError
from orch.timeutil import format_ts, parse_ts

DEFAULT_NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
SOURCE_PROJECT = "ken_debug"
DESTINATION_PROJECT = "Ken_demos"
MGI_REGEX = r"^M[-_]"
DEFAULT_TIMING = {"archive": "1h", "unarchive": "6h", "delete": "10m", "link_batch": "5s"}

BCLCONVERT_PIPELINES = ("BclConvert_v4_1_23_patch1", "BclConvert_v4_2_7", "BCL_Convert_v4_3_6")
OTHER_PIPELINES = ("DRAGEN_Germline_Whole_Genome_4_3_6", "DRAGEN_Enrichment_4_2_4")

_BCL_EXTRAS = (
    "Reports/Demultiplex_Stats.csv", "Reports/Quality_Metrics.csv", "Reports/RunInfo.xml",
    "Reports/SampleSheet.csv", "Reports/fastq_list.csv", "Reports/Top_Unknown_Barcodes.csv",
    "Logs/Errors.log", "Logs/Warnings.log", "Logs/Info.log", "Reports/Adapter_Metrics.csv",
    "Reports/Index_Hopping_Counts.csv", "Reports/Demultiplex_Tile_Stats.csv", "Logs/FastqComplete.txt",
)
_DRAGEN_SUFFIXES = (
    ".bam", ".bam.bai", ".bam.md5sum", ".hard-filtered.vcf.gz", ".hard-filtered.vcf.gz.tbi",
    ".mapping_metrics.csv", ".vc_metrics.csv", ".wgs_coverage_metrics.csv", ".time_metrics.csv",
    ".fragment_length_hist.csv", ".ploidy_estimation_metrics.csv", ".sv.vcf.gz", ".cnv.vcf.gz",
)
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Instrument:
    """A sequencer: its run folders use ``date_format``; lane options as on its flow cells."""

    serial: str
    date_format: str
    lane_options: tuple[int, ...]
    flowcell_kind: str

    def flowcell(self, rng: random.Random) -> str:
        side = rng.choice("AB")
        pick = lambda k: "".join(rng.choice(_ALNUM) for _ in range(k))  # noqa: E731
        if self.flowcell_kind == "novaseqx":
            return f"{side}22{pick(7)}"
        if self.flowcell_kind == "novaseq6000":
            return f"{side}H{pick(4)}DSX{rng.choice('357')}"
        return f"AAA{pick(4)}M5"  # NextSeq 2000 flow cells carry no A/B side


INSTRUMENTS = (
    Instrument("LH00619", "%Y%m%d", (8, 2), "novaseqx"),
    Instrument("LH00412", "%Y%m%d", (8,), "novaseqx"),
    Instrument("A01536", "%y%m%d", (4, 2), "novaseq6000"),
    Instrument("VH00858", "%y%m%d", (1, 2), "nextseq2000"),
)


@dataclass
class _Sample:
    name: str
    number: int  # S number from the sample sheet (Undetermined is S0)
    gzip: bool = True


@dataclass
class _Plan:
    """What one analysis is, before its files are laid out."""

    index: int
    age: timedelta
    pipeline: str
    status: str
    bssh: bool
    archived: bool
    in_transit: str | None
    handed_off: bool
    start: datetime = field(init=False)
    instrument: Instrument | None = None
    run_number: int = 0


class _Ids:
    """Deterministic ids drawn from the world's generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._bs_project = 5_000_000 + rng.randrange(1000)
        self._bs_run = 300_000_000 + rng.randrange(1000)

    def hex32(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def file(self) -> str:
        return "fil." + self.hex32()

    def folder(self) -> str:
        return "fol." + self.hex32()

    def dataset(self) -> str:
        return "ds." + self.hex32()

    def bs_project(self) -> str:
        self._bs_project += 1 + self.rng.randrange(50)
        return str(self._bs_project)

    def bs_run(self) -> str:
        self._bs_run += 1 + self.rng.randrange(500)
        return str(self._bs_run)


class _Generator:
    def __init__(self, *, analyses: int, files_per_analysis: int, bssh_fraction: float, seed: int,
                 now: datetime):
        self.n_analyses = analyses
        self.files_per_analysis = files_per_analysis
        self.bssh_fraction = bssh_fraction
        self.now = now
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.source_id = self.ids.uuid()
        self.dest_id = self.ids.uuid()
        self.source_data: list[dict] = []
        self.source_analyses: list[dict] = []
        self.dest_data: list[dict] = []
        self.bs_projects: dict[str, dict] = {}
        self.bs_runs: list[dict] = []
        self._sample_serial = 100 + self.rng.randrange(800)

    # ------------------------------------------------------------------ the analyses
    def plan(self, i: int) -> _Plan:
        rng = self.rng
        r = rng.random()
        if r < 0.88:
            pipeline = rng.choice(BCLCONVERT_PIPELINES)
        else:
            pipeline = rng.choice(OTHER_PIPELINES)
        r = rng.random()
        status = ("INPROGRESS" if r < 0.05 else "FAILED" if r < 0.09 else "ABORTED" if r < 0.11
                  else "FAILEDFINAL" if r < 0.12 else "SUCCEEDED")
        window = rng.random()
        if status == "INPROGRESS":
            age = timedelta(hours=rng.uniform(0.5, 30))
        elif window < 0.40:
            age = timedelta(days=rng.uniform(0.5, 59.5))
        elif window < 0.65:
            age = timedelta(days=rng.uniform(60.5, 89.5))
        else:
            age = timedelta(days=rng.uniform(90.5, 540))
        age = timedelta(seconds=int(age.total_seconds()))
        bssh = pipeline in BCLCONVERT_PIPELINES and rng.random() < self.bssh_fraction
        old = age > timedelta(days=60)
        archived = old and status != "INPROGRESS" and rng.random() < (0.5 if age > timedelta(days=90) else 0.3)
        in_transit = None
        if old and not archived and not bssh and rng.random() < 0.05:
            in_transit = rng.choice(("ARCHIVING", "UNARCHIVING", "DELETING"))
        handed_off = (pipeline in BCLCONVERT_PIPELINES and status == "SUCCEEDED"
                      and age > timedelta(days=1) and rng.random() < 0.6)
        p = _Plan(i, age, pipeline, status, bssh, archived, in_transit, handed_off)
        p.start = self.now - age
        return p

    def run(self) -> dict[str, Any]:
        plans = [self.plan(i) for i in range(self.n_analyses)]
        # run numbers grow with time on each instrument, as on real sequencers
        counters = {inst.serial: 1 + self.rng.randrange(40) for inst in INSTRUMENTS}
        for p in sorted(plans, key=lambda p: (p.start, p.index)):
            if p.pipeline in BCLCONVERT_PIPELINES:
                p.instrument = self.rng.choice(INSTRUMENTS)
                counters[p.instrument.serial] += 1 + self.rng.randrange(3)
                p.run_number = (counters[p.instrument.serial] - 1) % 9999 + 1  # always 4 digits
        for p in plans:
            if p.pipeline in BCLCONVERT_PIPELINES:
                self.bclconvert(p)
            else:
                self.dragen(p)
        self.unrelated_basespace(max(1, self.n_analyses // 10))
        return self.world()

    def _analysis(self, p: _Plan, user_reference: str, reference: str, aid: str) -> str:
        output = f"/ilmn-analyses/{reference}/output/"
        created = p.start - timedelta(seconds=self.rng.randrange(60, 900))
        entry: dict[str, Any] = {
            "id": aid, "reference": reference, "userReference": user_reference, "pipeline": p.pipeline,
            "status": p.status, "timeCreated": format_ts(created), "startDate": format_ts(p.start),
        }
        if p.status != "INPROGRESS":
            entry["endDate"] = format_ts(self._end(p))
        entry["output"] = output
        self.source_analyses.append(entry)
        status = self._data_status(p)
        if status != "AVAILABLE":
            self.source_data.append({"path": output, "id": self.ids.folder(), "timeCreated": format_ts(created),
                                     "status": status})
        return output

    def _end(self, p: _Plan) -> datetime:
        hours = 1 + (p.index * 7919 % 300) / 60  # 1-6 h, no draw: keeps the sequence stable
        return min(p.start + timedelta(hours=hours), self.now)

    def _data_status(self, p: _Plan) -> str:
        if p.status == "INPROGRESS":
            return "PARTIAL"
        if p.archived and not p.bssh:  # BaseSpace-managed: BaseSpace archives, ICA outputs stay readable
            return "ARCHIVED"
        if p.in_transit:
            return p.in_transit
        return "AVAILABLE"

    def _file(self, path: str, p: _Plan, size: int | None = None, content: str | None = None,
              fmt: str | None = None) -> dict:
        when = self._end(p) if p.status != "INPROGRESS" else p.start + timedelta(minutes=20)
        entry: dict[str, Any] = {"path": path, "id": self.ids.file(), "timeCreated": format_ts(when),
                                 "status": self._data_status(p)}
        if content is not None:
            entry["content"] = content
        else:
            entry["size"] = size if size is not None else self.rng.randrange(1_000, 200_000)
        if fmt:
            entry["format"] = fmt
        self.source_data.append(entry)
        return entry

    # ------------------------------------------------------------------ BCL Convert
    def _sample_sheet(self, count: int) -> list[_Sample]:
        rng = self.rng
        samples: list[_Sample] = []
        for s in range(1, count + 1):
            self._sample_serial += 1
            serial = 100 + self._sample_serial % 900
            r = rng.random()
            if r < 0.35:
                name = f"M-{serial}-{rng.randrange(100, 1000)}"
            elif r < 0.6:
                name = f"M_{serial}_{rng.randrange(1000, 10000)}"
            elif r < 0.68:
                name = f"m-{serial}-{rng.randrange(100, 1000)}"
            elif r < 0.76:
                name = f"Sample{s}"
            elif r < 0.84:
                name = rng.choice(("NA12878", "HG002", "HG003", "NA24385")) + f"_{s}"
            else:
                name = f"L{rng.randrange(2200, 2699)}-{s:02d}"
            samples.append(_Sample(name, s))
        if count >= 3 and rng.random() < 0.5:
            samples[-1] = _Sample("Phix", count)
        if count >= 2 and rng.random() < 0.05:
            samples[0].gzip = False  # an uncompressed .fastq now and then
        return samples

    def bclconvert(self, p: _Plan) -> None:
        rng, ids = self.rng, self.ids
        inst = p.instrument
        assert inst is not None
        run_date = p.start - timedelta(seconds=rng.randrange(20 * 3600, 44 * 3600))
        run_folder = f"{run_date.strftime(inst.date_format)}_{inst.serial}_{p.run_number:04d}_{inst.flowcell(rng)}"
        aid = ids.uuid()
        reference = (f"{run_folder}_{rng.getrandbits(24):06x}_{rng.getrandbits(24):06x}"
                     f"-{p.pipeline}-{aid}")
        output = self._analysis(p, run_folder, reference, aid)

        n = self.files_per_analysis
        must: list[str] = []
        bs_project = None
        if p.bssh:
            bs_project = self._bs_project_for(p)
            must.append("bsshoutput.json")
        optional = (["bsshinput.json"] if p.bssh else []) + list(_BCL_EXTRAS)
        must = must[:n]
        n_extra = min(len(optional), max(0, n - len(must)) // 4)
        n_fastq = n - len(must) - n_extra

        reads = ["R1", "R2", "I1", "I2"] if rng.random() < 0.25 else ["R1", "R2"]
        lanes = rng.choice(inst.lane_options)
        while lanes > 1 and n_fastq < lanes * len(reads) * 3:
            lanes //= 2
        per_lane = len(reads) * lanes
        n_samples = max(1, -(-max(0, n_fastq - per_lane) // per_lane))
        samples = self._sample_sheet(n_samples)

        fastqs: list[tuple[_Sample, int, str]] = []
        undetermined = _Sample("Undetermined", 0)
        for lane in range(1, lanes + 1):
            fastqs += [(undetermined, lane, read) for read in reads]
        for sample in samples:
            for lane in range(1, lanes + 1):
                fastqs += [(sample, lane, read) for read in reads]
        fastqs = fastqs[:n_fastq]

        experiment = f"{inst.serial}-run{p.run_number:04d}"
        for name in must:
            self._file(output + name, p, content=json.dumps(
                {"Projects": {"OutputProject": {"Name": bs_project["Name"]}}}))  # type: ignore[index]
        for name in optional[:n_extra]:
            if name == "bsshinput.json":
                self._file(output + name, p, content=json.dumps({"BsshRun": {"ExperimentName": experiment}}))
            else:
                self._file(output + name, p)
        lane_sizes: dict[tuple[str, int], int] = {}
        handed: list[dict] = []
        for sample, lane, read in fastqs:
            ext = ".fastq.gz" if sample.gzip else ".fastq"
            base = f"{sample.name}_S{sample.number}_L{lane:03d}_{read}_001{ext}"
            size = rng.randrange(20_000_000, 400_000_000) if read.startswith("I") else rng.randrange(
                200_000_000, 4_000_000_000)
            entry = self._file(f"{output}Samples/Lane_{lane}/{base}", p, size=size, fmt="FASTQ")
            if sample.number:
                key = (sample.name, lane)
                lane_sizes[key] = lane_sizes.get(key, 0) + size
            if base.endswith(".fastq.gz") and base[:2] in ("M-", "M_"):
                handed.append(entry)

        if p.handed_off:
            self._hand_off(p, reference, handed)
        if p.bssh and bs_project is not None:
            made = self._end(p)
            for (name, lane), size in (lane_sizes.items() if p.status != "INPROGRESS" else ()):
                bs_project["datasets"].append({
                    "Id": ids.dataset(), "Name": f"{name}_L{lane:03d}",
                    "DateCreated": format_ts(min(made + timedelta(minutes=rng.randrange(2, 30)), self.now)),
                    "IsArchived": p.archived, "TotalSize": size, "DatasetType": "illumina.fastq.v1.8",
                    "QcStatus": "QcPassed"})
            self.bs_runs.append({
                "Id": ids.bs_run(), "Name": run_folder, "ExperimentName": experiment,
                "DateCreated": format_ts(run_date), "Status": "Complete", "IsArchived": p.archived,
                "TotalSize": sum(lane_sizes.values()) * 2})

    def _bs_project_for(self, p: _Plan) -> dict:
        if self.rng.random() < 0.5:  # a monthly project shared by several runs
            name = f"MGI_{p.start:%Y_%m}"
        else:
            name = f"bssh_use1-sh-prod_{self.rng.randrange(3_000_000, 4_000_000)}"
        if name not in self.bs_projects:
            self.bs_projects[name] = {"Name": name, "Id": self.ids.bs_project(),
                                      "DateCreated": format_ts(p.start - timedelta(days=2)), "datasets": []}
        return self.bs_projects[name]

    def _hand_off(self, p: _Plan, reference: str, files: list[dict]) -> None:
        """An earlier hand-off: the MGI FASTQs linked into the destination, and their manifest."""
        for f in files:
            self.dest_data.append({"path": f["path"], "id": f["id"], "owningProjectId": self.source_id})
        if not files:
            return
        rows = ["file_name,file_path,data_id,project_id"]
        for f in sorted(files, key=lambda f: f["path"]):
            rows.append(f"{f['path'].rsplit('/', 1)[1]},{f['path']},{f['id']},{self.dest_id}")
        self.dest_data.append({
            "path": f"/fastq_manifests/{reference}.download_manifest.csv", "id": self.ids.file(),
            "timeCreated": format_ts(self._end(p) + timedelta(hours=1)), "status": "AVAILABLE",
            "content": "\n".join(rows) + "\n"})

    # ------------------------------------------------------------------ other pipelines
    def dragen(self, p: _Plan) -> None:
        rng = self.rng
        sample = rng.choice((f"M-{rng.randrange(100, 1000)}-{rng.randrange(100, 1000)}", "NA12878", "HG002"))
        user_reference = f"{sample}_germline" if "Germline" in p.pipeline else f"{sample}_enrichment"
        aid = self.ids.uuid()
        reference = f"{user_reference}-{p.pipeline}-{aid}"
        output = self._analysis(p, user_reference, reference, aid)
        for k in range(self.files_per_analysis):
            s, suffix = divmod(k, len(_DRAGEN_SUFFIXES))
            name = sample if s == 0 else f"{sample}_{s + 1}"
            size = rng.randrange(5_000_000_000, 90_000_000_000) if suffix == 0 else rng.randrange(1_000, 5_000_000)
            self._file(f"{output}{name}/{name}{_DRAGEN_SUFFIXES[suffix]}", p, size=size)

    # ------------------------------------------------------------------ BaseSpace beyond the source project
    def unrelated_basespace(self, count: int) -> None:
        """Projects no analysis names, and runs of other labs (no analysis in the source project)."""
        rng, ids = self.rng, self.ids
        for k in range(count):
            created = self.now - timedelta(seconds=rng.randrange(86_400, 400 * 86_400))
            name = f"Core_QC_{created:%Y}_{k + 1:02d}"
            self.bs_projects.setdefault(name, {"Name": name, "Id": ids.bs_project(),
                                               "DateCreated": format_ts(created), "datasets": []})
            for d in range(1 + rng.randrange(4)):
                when = created + timedelta(seconds=rng.randrange(48 * 3600))
                self.bs_projects[name]["datasets"].append({
                    "Id": ids.dataset(), "Name": f"QC-{k + 1:02d}-{d + 1}_L001",
                    "DateCreated": format_ts(min(when, self.now)),
                    "IsArchived": when < self.now - timedelta(days=90) and rng.random() < 0.5,
                    "TotalSize": rng.randrange(10_000_000, 900_000_000), "DatasetType": "illumina.fastq.v1.8",
                    "QcStatus": "QcPassed"})
            inst = rng.choice(INSTRUMENTS)
            run_date = self.now - timedelta(seconds=rng.randrange(86_400, 400 * 86_400))
            self.bs_runs.append({
                "Id": ids.bs_run(),
                "Name": f"{run_date.strftime(inst.date_format)}_{inst.serial}_{9000 + k:04d}_{inst.flowcell(rng)}",
                "ExperimentName": f"other-lab-{k + 1}", "DateCreated": format_ts(run_date),
                "Status": rng.choice(("Complete", "Complete", "Failed", "Stopped")),
                "IsArchived": run_date < self.now - timedelta(days=90) and rng.random() < 0.5,
                "TotalSize": rng.randrange(10_000_000_000, 900_000_000_000)})

    def world(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "now": format_ts(self.now),
            "ica": {
                "api_key": "sandbox-key",
                "projects": [
                    {"name": SOURCE_PROJECT, "id": self.source_id, "shortDescription": "BCL Convert runs",
                     "data": self.source_data, "analyses": self.source_analyses},
                    {"name": DESTINATION_PROJECT, "id": self.dest_id, "shortDescription": "MGI hand-off",
                     "data": self.dest_data, "analyses": []},
                ],
            },
            "basespace": {
                "access_token": "sandbox-token",
                "projects": sorted(self.bs_projects.values(), key=lambda p: int(p["Id"])),
                "runs": sorted(self.bs_runs, key=lambda r: int(r["Id"])),
            },
            "timing": dict(DEFAULT_TIMING),
        }


def generate_world(*, analyses: int = 20, files_per_analysis: int = 24, bssh_fraction: float = 0.5,
                   seed: int = 1, now: datetime | str | None = None) -> dict[str, Any]:
    """A world (contracts section 3, plain dicts) with ``analyses`` analyses in the source project and
    exactly ``files_per_analysis`` files under each output folder. Same arguments, same world."""
    if analyses < 0:
        raise ConfigError(f"the number of analyses must not be negative (got {analyses})")
    if files_per_analysis < 1:
        raise ConfigError(f"files per analysis must be at least 1 (got {files_per_analysis})")
    if not 0.0 <= bssh_fraction <= 1.0:
        raise ConfigError(f"the BaseSpace fraction must be between 0 and 1 (got {bssh_fraction})")
    when = parse_ts(now) if now is not None else DEFAULT_NOW
    assert when is not None
    return _Generator(analyses=analyses, files_per_analysis=files_per_analysis, bssh_fraction=bssh_fraction,
                      seed=seed, now=when.replace(microsecond=0)).run()


_HEADER = "# orch sandbox world (format_version 1), generated by `orch sandbox generate`\n"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dump_world_yaml(world: dict[str, Any]) -> str:
    """YAML text of a world: block style, with each data entry, dataset and run on one line.

    PyYAML needs about 0.2 ms per file entry to dump and far longer to parse back, which is minutes
    for a million-file world. Every leaf is written as JSON instead (JSON scalars and flow mappings
    are YAML too), so the text stays readable YAML that any YAML parser reads back to the same dict.
    """
    out: list[str] = [_HEADER]
    _emit_mapping(world, "", out)
    return "".join(out)


def dump_world_json(world: dict[str, Any]) -> str:
    """The world as JSON (also valid YAML); the fastest format to load for very large worlds."""
    return json.dumps(world, ensure_ascii=False, separators=(",", ":")) + "\n"


def _key(k: str) -> str:
    return k if _PLAIN_KEY.match(k) else json.dumps(k, ensure_ascii=False)


def _is_leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) for v in value.values())
    if isinstance(value, list):
        return not value
    return True


def _leaf(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _emit_mapping(mapping: dict[str, Any], indent: str, out: list[str]) -> None:
    for k, v in mapping.items():
        if isinstance(v, dict) and v:
            out.append(f"{indent}{_key(k)}:\n")
            _emit_mapping(v, indent + "  ", out)
        elif isinstance(v, list) and v:
            out.append(f"{indent}{_key(k)}:\n")
            _emit_sequence(v, indent + "  ", out)
        else:
            out.append(f"{indent}{_key(k)}: {_leaf(v)}\n")


def _emit_sequence(items: list[Any], indent: str, out: list[str]) -> None:
    for item in items:
        if _is_leaf(item):
            out.append(f"{indent}- {_leaf(item)}\n")
        elif isinstance(item, dict):  # "- first: ..." then the other keys under it
            start = len(out)
            _emit_mapping(item, indent + "  ", out)
            out[start] = f"{indent}- " + out[start][len(indent) + 2:]
        else:
            out.append(f"{indent}-\n")
            _emit_sequence(item, indent + "  ", out)
