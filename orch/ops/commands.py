"""The body of ``orch watch``: the CLI only parses."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from orch.errors import ConfigError
from orch.ops.logsetup import setup_logging, teardown_logging
from orch.ops.watch import Watcher, WatchOptions
from orch.policy.loader import load_policies
from orch.settings import RunSettings
from orch.timeutil import parse_duration


def duration_s(text: str, option: str, minimum: float = 0.0) -> float:
    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    if seconds < minimum:
        raise ConfigError(f"{option} {text!r} is too short (at least {minimum:g} s)")
    return seconds


@dataclass
class WatchArgs:
    every: str = "10m"
    jitter: float = 0.1
    once: bool = False
    dry_run: bool = False
    debounce: str = "30s"
    backoff: str = "30s"
    max_auth_failures: int = 3
    events: str | None = None
    log_file: str | None = "orchestrator.log"
    log_format: str = "text"
    notify: tuple[str, ...] = ()


def watch_options(args: WatchArgs) -> WatchOptions:
    if not 0 <= args.jitter < 1:
        raise ConfigError(f"--jitter {args.jitter} must be a fraction of --every, from 0 up to (not including) 1")
    if args.max_auth_failures < 1:
        raise ConfigError("--max-auth-failures must be at least 1")
    return WatchOptions(every_s=duration_s(args.every, "--every", 1.0), jitter=args.jitter, once=args.once,
                        dry_run=args.dry_run, debounce_s=duration_s(args.debounce, "--debounce"),
                        backoff_s=duration_s(args.backoff, "--backoff", 0.1),
                        max_auth_failures=args.max_auth_failures)


def watch_command(settings: RunSettings, args: WatchArgs) -> int:
    options = watch_options(args)
    load_policies(settings.policy_paths, settings.var_overrides)  # a broken policy stops us before the first cycle
    setup_logging(args.log_file, args.log_format)
    try:
        events = None
        if args.events:
            from orch.ops.events import open_event_source

            events = open_event_source(args.events, settings)
        notifier = None
        if args.notify:
            from orch.ops.notify import parse_target
            from orch.ops.watch_notify import CycleNotifier

            notifier = CycleNotifier([parse_target(t) for t in args.notify])
        log = logging.getLogger("orch.watch")
        mode = "dry run (plan only)" if options.dry_run else "plan and apply"
        log.info("orch watch: %s every %s%s", mode, args.every,
                 f", woken by events from {args.events}" if args.events else "")
        return Watcher(settings, options, events=events, notifier=notifier).run().exit_code
    finally:
        teardown_logging()
