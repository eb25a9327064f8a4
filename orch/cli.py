"""The ``orch`` command line (Typer). Thin: parse options, call the engine, render, exit."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import List, Optional

import typer

from orch import __version__
from orch.errors import ConfigError, OrchError
from orch.settings import DEFAULT_STATE, SANDBOX_DIR, RunSettings

app = typer.Typer(
    name="orch",
    help="Declarative policies for sequencing-data hand-off and lifecycle on ICA and BaseSpace.\n\n"
    "Typical use: `orch lint policies/`, then `orch plan -p policies/mgi.yaml`, then "
    "`orch apply PLAN.json`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
sandbox_app = typer.Typer(help="Run and generate the local ICA/BaseSpace emulator.", no_args_is_help=True)
ledger_app = typer.Typer(help="The managed-analyses ledger (import/export the legacy table).", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(ledger_app, name="ledger")


def fail(message: str, code: int = 1) -> "typer.Exit":
    from orch.connectors.redact import redact

    typer.echo(f"error: {redact(message)}", err=True)
    return typer.Exit(code)


def run_guarded(fn, *args, **kwargs):
    """Run a command body; turn any exception into one line on stderr and exit 1."""
    try:
        return fn(*args, **kwargs)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise fail("interrupted", 130)
    except OrchError as exc:
        raise fail(str(exc))
    except Exception as exc:  # never a traceback for users; ORCH_DEBUG=1 shows it (redacted)
        if os.environ.get("ORCH_DEBUG"):
            import traceback

            from orch.connectors.redact import redact

            sys.stderr.write(redact(traceback.format_exc()))
        raise fail(f"internal error: {type(exc).__name__}: {exc}"
                   + ("" if os.environ.get("ORCH_DEBUG") else " (set ORCH_DEBUG=1 for details)"))


def sandbox_missing(exc: ImportError) -> str:
    return (f"the sandbox needs the 'sandbox' extra ({exc.name or exc} is not installed); "
            "install it with: pip install 'orch[sandbox]'")


def _version(value: bool):
    if value:
        typer.echo(f"orch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
):
    """orch: plan, review and apply data policies on ICA and BaseSpace."""


# ---------------------------------------------------------------- lint / schema
@app.command()
def lint(
    paths: List[Path] = typer.Argument(..., help="Policy files or folders (searched recursively for *.yaml/*.yml)."),
    format: str = typer.Option("text", "--format", help="text (PATH:LINE:COL: message), json, or sarif "
                                                        "(SARIF 2.1.0 for code-scanning annotations)."),
):
    """Check policy files without network or credentials: syntax, schema and semantics."""

    def body():
        from orch.policy.lint import lint_paths
        if format not in ("text", "json", "sarif"):
            raise ConfigError(f"unknown --format {format!r}; use text, json or sarif")
        problems = lint_paths([str(p) for p in paths])
        if format == "json":
            typer.echo(json.dumps([p.as_dict() for p in problems], indent=2))
        elif format == "sarif":
            from orch.policy.sarif import to_sarif
            typer.echo(json.dumps(to_sarif(problems), indent=2))
        else:
            for p in problems:
                typer.echo(str(p))
        raise typer.Exit(1 if problems else 0)

    run_guarded(body)


@app.command()
def schema(what: str = typer.Argument("policy", help="policy, plan, world or test.")):
    """Print a JSON Schema (policy files, plan files, sandbox world files or *.orchtest.yaml files)."""

    def body():
        if what == "policy":
            from orch.policy.schema import policy_schema as make
        elif what == "plan":
            from orch.engine.plan import plan_schema as make
        elif what == "world":
            from orch.sandbox.world import world_schema as make
        elif what == "test":
            from orch.testing.schema import orchtest_schema as make
        else:
            raise ConfigError(f"unknown schema {what!r}; use policy, plan, world or test")
        typer.echo(json.dumps(make(), indent=2, sort_keys=True))

    run_guarded(body)


# ---------------------------------------------------------------- test (policies as code)
@app.command("test")
def test_cmd(
    paths: List[Path] = typer.Argument(None, help="Test files (*.orchtest.yaml) or folders searched for them "
                                                  "(default: the current folder)."),
    update: bool = typer.Option(False, "--update", help="Write each case's current plan as its expectation "
                                                        "(review the diff before committing)."),
    junit_xml: Optional[Path] = typer.Option(None, "--junit-xml", help="Also write the results as JUnit XML."),
):
    """Run policy tests: plan each case against its sandbox world and compare with the expected actions."""

    def body():
        try:
            from orch.testing import run_tests
        except ImportError as exc:
            raise fail(sandbox_missing(exc))
        run = run_tests([str(p) for p in paths or []], update=update,
                        junit_xml=str(junit_xml) if junit_xml else None, echo=typer.echo)
        raise typer.Exit(run.exit_code)

    run_guarded(body)


# ---------------------------------------------------------------- plan / apply
def _parse_vars(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--var {item!r} must look like NAME=VALUE")
        out[name.strip()] = value
    return out


def _parse_now(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    from orch.timeutil import parse_ts

    try:
        return parse_ts(text)
    except ValueError:
        raise ConfigError(f"--now {text!r} is not an ISO 8601 timestamp (e.g. 2026-11-25T12:00:00Z)")


PolicyOpt = typer.Option([], "-p", "--policy", help="Policy file or folder (repeatable).")
VarOpt = typer.Option([], "--var", help="Override a policy variable: NAME=VALUE (repeatable).")
OnlyOpt = typer.Option([], "--only", help="Plan only the policies whose names match this glob (repeatable); "
                                          "the protect lists of every loaded file still apply.")
NowOpt = typer.Option(None, "--now", help="The clock for every age (ISO 8601). Default: now, or the sandbox clock.")
IcaUrlOpt = typer.Option(None, "--ica-url", envvar="ORCH_ICA_URL", help="ICA base URL.", show_default="https://ica.illumina.com/ica/rest")
BsUrlOpt = typer.Option(None, "--basespace-url", envvar="ORCH_BASESPACE_URL", help="BaseSpace API server (default: apiServer of the BaseSpace config).")
KeyOpt = typer.Option(None, "--api-key-file", envvar="ICA_API_KEY_FILE", help="File holding the ICA API key (or set ICA_API_KEY).")
BsCfgOpt = typer.Option(None, "--basespace-config", envvar="BASESPACE_CONFIG", help="BaseSpace default.cfg (or set BASESPACE_ACCESS_TOKEN).")
S3Opt = typer.Option(None, "--s3-endpoint-url", envvar="AWS_ENDPOINT_URL_S3", help="S3 endpoint for uploads (sandbox only).")
StateOpt = typer.Option(None, "--state", envvar="ORCH_STATE", show_default=DEFAULT_STATE,
                        help="The ledger database (with --sandbox: .orch/sandbox/state.db unless given).")
LedgerSandboxOpt = typer.Option(False, "--sandbox", help="The ledger of --sandbox runs (.orch/sandbox/state.db).")
LedgerGroupOpt = typer.Option(None, "--group", help="One group's hand-offs / entries (the policy files' `group`).")


def _ledger_path(state: Optional[str], sandbox: bool) -> str:
    """An explicit --state (or ORCH_STATE) always wins; else the sandbox ledger or the default."""
    return state or (str(Path(SANDBOX_DIR) / "state.db") if sandbox else DEFAULT_STATE)
SandboxOpt = typer.Option(False, "--sandbox", help="Run against the built-in sandbox (state kept in .orch/sandbox/).")
WorldOpt = typer.Option(None, "--world", help="Sandbox world file (default: the shipped demo world).")
FormatOpt = typer.Option("table", "--format", help="How the plan is shown: table, json or markdown.")


def check_url(value: Optional[str], option: str) -> Optional[str]:
    """A URL option is http(s)://host[:port][/path] or a one-line error naming the option."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    example = {"--ica-url": "https://ica.illumina.com/ica/rest",
               "--basespace-url": "https://api.basespace.illumina.com"}.get(option, "http://127.0.0.1:9000")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{option} {value!r} is not an http(s) URL (for example {example})")
    return value.strip()


def _settings(**kw) -> RunSettings:
    for name, option in (("ica_url", "--ica-url"), ("basespace_url", "--basespace-url"),
                         ("s3_endpoint_url", "--s3-endpoint-url")):
        kw[name] = check_url(kw.get(name), option)
    fmt = kw.get("format")
    if fmt not in ("table", "json", "markdown"):
        raise ConfigError(f"unknown --format {fmt!r}; use table, json or markdown")
    if kw.get("world") and not kw.get("sandbox"):
        raise ConfigError("--world only makes sense with --sandbox")
    kw["var_overrides"] = _parse_vars(kw.pop("var"))
    kw["now"] = _parse_now(kw.pop("now"))
    kw["policy_paths"] = [str(p) for p in kw.pop("policy")]
    return RunSettings(**kw)


def _check_out(out: Path) -> None:
    """--out names a file in a folder that exists (never a folder, never a new folder tree)."""
    if out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a folder; give a file name, e.g. {str(out / 'plan.json')!r}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"--out {str(out)!r}: the folder {str(parent)!r} does not exist; create it first")


@app.command()
def plan(
    policy: List[Path] = PolicyOpt,
    var: List[str] = VarOpt,
    only: List[str] = OnlyOpt,
    now: Optional[str] = NowOpt,
    ica_url: Optional[str] = IcaUrlOpt,
    basespace_url: Optional[str] = BsUrlOpt,
    api_key_file: Optional[str] = KeyOpt,
    basespace_config: Optional[str] = BsCfgOpt,
    s3_endpoint_url: Optional[str] = S3Opt,
    state: Optional[str] = StateOpt,
    sandbox: bool = SandboxOpt,
    world: Optional[str] = WorldOpt,
    format: str = FormatOpt,
    out: Optional[Path] = typer.Option(None, "--out", help="Save the plan as JSON for `orch apply PLAN.json`."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 0 no changes, 2 changes, 1 error."),
):
    """Preview what apply would do. Nothing is changed anywhere."""

    def body():
        settings = _settings(policy=policy, var=var, now=now, ica_url=ica_url, basespace_url=basespace_url,
                             api_key_file=api_key_file, basespace_config=basespace_config,
                             s3_endpoint_url=s3_endpoint_url, state=state, sandbox=sandbox, world=world,
                             format=format, out=str(out) if out else None, detailed_exitcode=detailed_exitcode,
                             only=list(only))
        if not settings.policy_paths:
            raise ConfigError("no policies given; use -p PATH (a file or a folder)")
        if out is not None:
            _check_out(out)
        from orch.engine.commands import plan_command
        raise typer.Exit(plan_command(settings))

    run_guarded(body)


@app.command()
def apply(
    plan_file: Optional[Path] = typer.Argument(None, help="A plan saved with `orch plan --out`; applied exactly."),
    policy: List[Path] = PolicyOpt,
    var: List[str] = VarOpt,
    only: List[str] = OnlyOpt,
    now: Optional[str] = NowOpt,
    ica_url: Optional[str] = IcaUrlOpt,
    basespace_url: Optional[str] = BsUrlOpt,
    api_key_file: Optional[str] = KeyOpt,
    basespace_config: Optional[str] = BsCfgOpt,
    s3_endpoint_url: Optional[str] = S3Opt,
    state: Optional[str] = StateOpt,
    sandbox: bool = SandboxOpt,
    world: Optional[str] = WorldOpt,
    format: str = FormatOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
):
    """Apply a saved plan, or plan and apply in one go with -p (asks first unless --yes)."""

    def body():
        settings = _settings(policy=policy, var=var, now=now, ica_url=ica_url, basespace_url=basespace_url,
                             api_key_file=api_key_file, basespace_config=basespace_config,
                             s3_endpoint_url=s3_endpoint_url, state=state, sandbox=sandbox, world=world,
                             format=format, yes=yes, plan_file=str(plan_file) if plan_file else None,
                             only=list(only))
        if not settings.plan_file and not settings.policy_paths:
            raise ConfigError("give a saved plan (orch apply PLAN.json) or policies (-p PATH)")
        if settings.plan_file and settings.policy_paths:
            raise ConfigError("give either a saved plan or -p policies, not both")
        if settings.plan_file and settings.only:
            raise ConfigError("--only selects policies when planning; a saved plan is applied exactly as it is")
        from orch.engine.commands import apply_command
        raise typer.Exit(apply_command(settings))

    run_guarded(body)


@app.command()
def show(
    plan_file: Path = typer.Argument(..., help="A plan saved with `orch plan --out`."),
    format: str = FormatOpt,
):
    """Show a saved plan (table, markdown for a pull request or ticket, or JSON). Reads nothing else."""

    def body():
        if format not in ("table", "json", "markdown"):
            raise ConfigError(f"unknown --format {format!r}; use table, json or markdown")
        from orch.engine.commands import show_command
        raise typer.Exit(show_command(str(plan_file), format))

    run_guarded(body)


# ---------------------------------------------------------------- sandbox
@sandbox_app.command("serve")
def sandbox_serve(
    world: Path = typer.Option(..., "--world", help="World file (YAML, format_version 1)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0 picks a free one)."),
    latency_ms: int = typer.Option(0, "--latency-ms", help="Added latency per request."),
    error_rate: float = typer.Option(0.0, "--error-rate", help="Fraction of requests answered 500/503."),
    rate_limit: float = typer.Option(0.0, "--rate-limit", help="Requests per second before 429 (0: unlimited)."),
    seed: int = typer.Option(0, "--seed", help="Seed for repeatable fault injection."),
    reset_rate: float = typer.Option(0.0, "--reset-rate", help="Fraction of requests whose connection is dropped "
                                                                "without a response."),
    refuse_route: list[str] = typer.Option([], "--refuse-route", help="Answer this route like an unknown one "
                                                                     "(404), e.g. \"DELETE /v2/datasets/{id}\"; repeatable."),
):
    """Serve the ICA and BaseSpace emulator (and S3) until stopped."""

    def body():
        try:
            from orch.sandbox.server import serve
        except ImportError as exc:
            raise fail(sandbox_missing(exc))
        serve(str(world), host=host, port=port, latency_ms=latency_ms, error_rate=error_rate,
              rate_limit=rate_limit, seed=seed, reset_rate=reset_rate, refuse_routes=refuse_route)

    run_guarded(body)


@sandbox_app.command("generate")
def sandbox_generate(
    analyses: Optional[int] = typer.Option(None, "--analyses", help="Number of ICA analyses in the source project (default 20)."),
    files_per_analysis: int = typer.Option(24, "--files-per-analysis", help="Output files per analysis."),
    files: Optional[int] = typer.Option(None, "--files", help="About this many output files in all (sets --analyses)."),
    bssh_fraction: float = typer.Option(0.5, "--bssh-fraction", help="Fraction of analyses managed by BaseSpace."),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same world)."),
    now: Optional[str] = typer.Option(None, "--now", help="The world's clock (default 2026-11-25T12:00:00Z)."),
    fmt: str = typer.Option("yaml", "--format", help="yaml, or json (also YAML; loads far faster for big worlds)."),
):
    """Write a realistic world of any size to stdout (deterministic for a seed)."""

    def body():
        try:
            from orch.sandbox.generate import dump_world_json, dump_world_yaml, generate_world
        except ImportError as exc:
            raise fail(sandbox_missing(exc))
        if fmt not in ("yaml", "json"):
            raise ConfigError(f"--format must be yaml or json, not {fmt!r}")
        if files is not None and analyses is not None:
            raise ConfigError("give --analyses or --files, not both")
        count = 20 if analyses is None else analyses
        if files is not None:
            if files < 0 or files_per_analysis < 1:
                raise ConfigError("--files must not be negative and --files-per-analysis must be at least 1")
            count = -(-files // files_per_analysis)
        world = generate_world(analyses=count, files_per_analysis=files_per_analysis,
                               bssh_fraction=bssh_fraction, seed=seed, now=_parse_now(now))
        sys.stdout.write(dump_world_json(world) if fmt == "json" else dump_world_yaml(world))

    run_guarded(body)


@sandbox_app.command("advance")
def sandbox_advance(
    duration: str = typer.Argument(..., help="How far to move the clock: 30m, 7h, 2d."),
    world: Optional[str] = WorldOpt,
):
    """Move the --sandbox clock forward; archiving, restoring and deleting whose time has come completes
    (the clock also runs with real time between commands)."""

    def body():
        from orch.engine.session import Session
        from orch.timeutil import format_ts, parse_duration

        try:
            delta = parse_duration(duration)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if delta.days > 36_500:
            raise ConfigError(f"{duration!r} is too far: the sandbox clock moves at most 100 years at a time")
        try:
            with Session(RunSettings(sandbox=True, world=world)) as session:
                now = session.advance(delta)
        except ImportError as exc:
            raise ConfigError(sandbox_missing(exc)) from None
        typer.echo(f"sandbox clock: {format_ts(now.replace(microsecond=0))}")

    run_guarded(body)


@sandbox_app.command("reset")
def sandbox_reset():
    """Forget the persisted sandbox state (.orch/sandbox/); the next --sandbox run starts fresh."""
    import shutil

    shutil.rmtree(SANDBOX_DIR, ignore_errors=True)
    typer.echo(f"sandbox state in {SANDBOX_DIR}/ reset")


# ---------------------------------------------------------------- ledger
@ledger_app.command("import")
def ledger_import(
    file: Path = typer.Argument(..., help="analyses_managed_table.txt (analysis_id_managed,run_id)."),
    state: Optional[str] = StateOpt,
    sandbox: bool = LedgerSandboxOpt,
    group: Optional[str] = LedgerGroupOpt,
):
    """Import the legacy managed-analyses table into the ledger, as one group's hand-offs (--group;
    needed when the ledger holds several groups)."""

    def body():
        from orch.engine.ledger import Ledger
        state_db = _ledger_path(state, sandbox)
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc.strerror}")
        with Ledger(state_db) as ledger:
            report = ledger.import_legacy(text, source=str(file), group=group)
        typer.echo(str(report))

    run_guarded(body)


@ledger_app.command("export")
def ledger_export(state: Optional[str] = StateOpt, sandbox: bool = LedgerSandboxOpt,
                  group: Optional[str] = LedgerGroupOpt):
    """Write the managed analyses (of one --group, or of all) as the legacy table to stdout."""

    def body():
        from orch.engine.ledger import Ledger
        state_db = _ledger_path(state, sandbox)
        if not Path(state_db).is_file():
            raise ConfigError(f"no ledger at {state_db}; give --state PATH (or --sandbox for the sandbox runs' ledger)")
        with Ledger(state_db) as ledger:
            sys.stdout.write(ledger.export_legacy(group))

    run_guarded(body)


@ledger_app.command("history")
def ledger_history(
    state: Optional[str] = StateOpt,
    sandbox: bool = LedgerSandboxOpt,
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=1_000_000, help="How many entries, newest first."),
    format: str = typer.Option("text", "--format", help="text (one line per action) or json."),
    group: Optional[str] = LedgerGroupOpt,
):
    """Show the audit log: every applied action with its result (with --sandbox runs the ledger
    is .orch/sandbox/state.db)."""

    def body():
        from dataclasses import asdict

        from orch.engine.ledger import Ledger

        if format not in ("text", "json"):
            raise ConfigError(f"unknown --format {format!r}; use text or json")
        state_db = _ledger_path(state, sandbox)
        if not Path(state_db).exists():
            raise ConfigError(f"no ledger at {state_db}; give --state PATH (or --sandbox for the sandbox runs' ledger)")
        with Ledger(state_db) as ledger:
            entries = ledger.history(limit, group=group)
        if format == "json":
            typer.echo(json.dumps([asdict(e) for e in entries], indent=2))
            return
        for e in entries:
            name = e.resource_name or e.resource_id
            by = f"{e.group}: {e.policy}" if e.group else e.policy
            line = f"{e.time}  {e.outcome:<14} {e.action:<12} {e.resource_kind} {name} ({e.resource_id})  [{by}]"
            typer.echo(line + (f": {e.message}" if e.message else ""))

    run_guarded(body)


# ---------------------------------------------------------------- watch (orch/ops; helper ops)
@app.command()
def doctor(
    policy: List[Path] = PolicyOpt,
    var: List[str] = VarOpt,
    ica_url: Optional[str] = IcaUrlOpt,
    basespace_url: Optional[str] = BsUrlOpt,
    api_key_file: Optional[str] = KeyOpt,
    basespace_config: Optional[str] = BsCfgOpt,
    state: Optional[str] = StateOpt,
    sandbox: bool = SandboxOpt,
    world: Optional[str] = WorldOpt,
    format: str = typer.Option("table", "--format", help="table (one line per check) or json."),
):
    """Read-only preflight of the configured account: one line per check with the fix (exit 1 on a failure)."""

    def body():
        if format not in ("table", "json"):
            raise ConfigError(f"unknown --format {format!r}; use table or json")
        settings = _settings(policy=policy, var=var, now=None, ica_url=ica_url, basespace_url=basespace_url,
                             api_key_file=api_key_file, basespace_config=basespace_config, s3_endpoint_url=None,
                             state=state, sandbox=sandbox, world=world, format="table")
        from orch.doctor import doctor_command
        raise typer.Exit(doctor_command(settings, format))

    run_guarded(body)


@app.command()
def watch(
    policy: List[Path] = PolicyOpt,
    var: List[str] = VarOpt,
    only: List[str] = OnlyOpt,
    now: Optional[str] = NowOpt,
    ica_url: Optional[str] = IcaUrlOpt,
    basespace_url: Optional[str] = BsUrlOpt,
    api_key_file: Optional[str] = KeyOpt,
    basespace_config: Optional[str] = BsCfgOpt,
    s3_endpoint_url: Optional[str] = S3Opt,
    state: Optional[str] = StateOpt,
    sandbox: bool = SandboxOpt,
    world: Optional[str] = WorldOpt,
    every: str = typer.Option("10m", "--every", help="Cadence of full plan+apply cycles (also the backstop with --events)."),
    jitter: float = typer.Option(0.1, "--jitter", help="Random +/- fraction of --every between cycles."),
    once: bool = typer.Option(False, "--once", help="One cycle, then exit (for cron); exit code as orch apply."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan only; apply nothing."),
    events: Optional[str] = typer.Option(None, "--events", envvar="ORCH_EVENTS", help="sqs://QUEUE_URL: start a cycle "
                                         "as soon as an ICA event that could change a plan arrives."),
    debounce: str = typer.Option("30s", "--debounce", help="After an event, wait this long for more before planning."),
    backoff: str = typer.Option("30s", "--backoff", help="First retry delay after a failed cycle (doubles, up to --every)."),
    max_auth_failures: int = typer.Option(3, "--max-auth-failures", help="Stop after this many authentication failures in a row."),
    log_file: str = typer.Option("orchestrator.log", "--log-file", envvar="ORCH_LOG_FILE",
                                 help="Log file, rotated by size ('' for none)."),
    log_format: str = typer.Option("text", "--log-format", help="text or json (one JSON object per line)."),
    notify: List[str] = typer.Option([], "--notify", help="Tell about failed cycles: webhook:env:VAR, "
                                     "webhook:file:PATH or email:ADDR[,ADDR] (SMTP from ORCH_SMTP_*); repeatable."),
):
    """Plan and apply on a cadence until stopped (SIGTERM/SIGINT stop it between actions)."""

    def body():
        settings = _settings(policy=policy, var=var, now=now, ica_url=ica_url, basespace_url=basespace_url,
                             api_key_file=api_key_file, basespace_config=basespace_config,
                             s3_endpoint_url=s3_endpoint_url, state=state, sandbox=sandbox, world=world,
                             format="table", yes=True, only=list(only))
        if not settings.policy_paths:
            raise ConfigError("no policies given; use -p PATH (a file or a folder)")
        from orch.ops.commands import WatchArgs, watch_command
        raise typer.Exit(watch_command(settings, WatchArgs(
            every=every, jitter=jitter, once=once, dry_run=dry_run, debounce=debounce, backoff=backoff,
            max_auth_failures=max_auth_failures, events=events, log_file=log_file or None, log_format=log_format,
            notify=tuple(notify))))

    run_guarded(body)


@app.command()
def audit(
    since: Optional[str] = typer.Option(None, "--since", help="Only entries this recent (7d, 12h) or after an ISO 8601 time."),
    group: Optional[str] = typer.Option(None, "--group", help="Only the entries of this lab group."),
    format: str = typer.Option("table", "--format", help="table, json or csv."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="At most this many entries, newest first."),
    state: Optional[str] = StateOpt,
    sandbox: bool = LedgerSandboxOpt,
):
    """What orch did: every applied action with its outcome, wall clock beside the run clock."""

    def body():
        from orch.ops.audit import audit_command
        sys.stdout.write(audit_command(_ledger_path(state, sandbox), since=since, group=group, fmt=format, limit=limit))

    run_guarded(body)


events_app = typer.Typer(help="ICA notification events for `orch watch --events`.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("setup")
def events_setup(
    events: str = typer.Option(..., "--events", envvar="ORCH_EVENTS", help="sqs://QUEUE_URL orch watch will read."),
    policy: List[Path] = PolicyOpt,
    var: List[str] = VarOpt,
    ica_url: Optional[str] = IcaUrlOpt,
    api_key_file: Optional[str] = KeyOpt,
    sandbox: bool = SandboxOpt,
    world: Optional[str] = WorldOpt,
    apply: bool = typer.Option(False, "--apply", help="Create the channel and subscriptions through the ICA API."),
    payload_version: str = typer.Option("V4", "--payload-version", help="V3 or V4 (analysis events)."),
):
    """Print (or --apply) the ICA notification channel and subscriptions, and the SQS queue policy."""

    def body():
        settings = _settings(policy=policy, var=var, now=None, ica_url=ica_url, basespace_url=None,
                             api_key_file=api_key_file, basespace_config=None, s3_endpoint_url=None, state=None,
                             sandbox=sandbox, world=world, format="table")
        if not settings.policy_paths:
            raise ConfigError("no policies given; use -p PATH (the projects of their scopes are subscribed)")
        from orch.ops.events_setup import events_setup_command
        sys.stdout.write(events_setup_command(settings, events, apply, payload_version))

    run_guarded(body)


if __name__ == "__main__":  # pragma: no cover
    app()


def run(argv: Optional[List[str]] = None) -> None:
    """The console script (and ``python -m orch``): Typer without its standalone mode, so that a usage
    error (unknown option, missing value, bad type) is one ``error:`` line with exit 1, as for every
    other error; exit 2 stays reserved for ``plan --detailed-exitcode`` (contracts section 1)."""
    try:
        from typer.exceptions import TyperException as CliError  # Typer vendors click (>= 0.2x)
    except ImportError:  # pragma: no cover - older Typer on plain click
        from click import ClickException as CliError
    try:
        rc = app(args=argv, prog_name="orch", standalone_mode=False)
    except CliError as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `orch`, `orch sandbox`: show the help
            typer.echo(ctx.get_help() if ctx else "")
            sys.exit(0)
        where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        typer.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(1)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rc if isinstance(rc, int) else 0)
