// `rproc-supervisor daemon`: the lease daemon on a Unix socket, with a sim, sysfs or cdev driver.

import { closeSync, existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { crashPoint } from '../actors/crashPoint.js';
import { type CdevDriver, createCdevDriver } from '../actors/drivers/cdevDriver.js';
import type { RprocDriver } from '../actors/drivers/RprocDriver.js';
import { createSysfsDriver } from '../actors/drivers/sysfsDriver.js';
import type { KernelTwin } from '../actors/kernel/KernelTwin.js';
import type { ProcessorJson } from '../actors/kernel/processorSchema.js';
import type { LiveInspector } from '../inspector/startLiveInspector.js';
import { MAX_TTL_MS } from '../machines/leaseMachine.js';
import {
  DEFAULT_PROFILE,
  KERNEL_PROFILES,
  type KernelProfile,
  kernelFlag,
  parseKernel,
} from '../machines/profile.js';
import { createSupervisor } from '../supervisors/runtime/createSupervisor.js';
import { DEFAULT_RESCAN_MS } from '../supervisors/runtime/hotplug.js';
import { startDaemon } from '../supervisors/runtime/startDaemon.js';
import { unknownProcessors } from '../supervisors/supervisorSettings.js';
import { commandArgs } from './commandArgs.js';
import { connectionBound, LIMIT_HELP, LIMIT_OPTIONS, limitFlags } from './daemonLimits.js';
import {
  daemonSystemd,
  journalPrefix,
  keepNotifying,
  leaseBook,
  statusLine,
  stderrIsJournal,
  storeFd,
  unstoreFd,
} from './daemonSystemd.js';
import { defaultSocket } from './defaults.js';
import { escapeJson, escapeText } from './escapeText.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';
import { inspectWithoutPort, LIVE_INSPECT_OPTIONS, liveInspectPort } from './liveInspectFlags.js';
import { processorsFileMessage, readProcessorsFile, readSupervisionConfig } from './processorsFile.js';
import { socketAccessArgs } from './socketAccessArgs.js';

export const DAEMON_HELP = `Usage: rproc-supervisor daemon [--strategy hybrid|sysfs-monitor] [--driver sim|sysfs|cdev]
                               [--processors FILE] [--sysfs-root DIR] [--dev-root DIR] [--socket PATH]
                               [--socket-group GROUP] [--socket-mode MODE]
                               [--allow-uid N]… [--allow-gid N]… [--kernel K] [--poll-ms MS] [--log-json]
                               [--inspect[=PORT]] [--stately-ws URL] [--config FILE] [--policy NAME=POLICY]…
                               [--max-leases-per-peer N] [--max-connections-per-uid N]
                               [--max-unsent-bytes N] [--frame-timeout-ms MS]
                               [--probe-timeout MS] [--rescan-ms MS]
                               [--resume-grace-ms MS] [--fd-store]

Serves leases on a Unix socket (docs/protocol.md): a processor runs while any lease holds it and stops
when the last holder is gone, however it died. With hybrid (the default) the daemon also holds
/dev/remoteprocN with shutdown-on-release, so the kernel stops the processor if the daemon dies.

Options:
  --strategy S       hybrid (default; needs the cdev or sim driver) or sysfs-monitor
  --driver D         cdev (the default; without DEV-ROOT/remoteproc0, no default: exit 69), sysfs, or
                     sim (the in-process simulator: its processors are not real)
  --processors FILE  for sim: a JSON array of processor objects, as in scenarios (default: one, "m4")
  --sysfs-root DIR   default /sys/class/remoteproc
  --dev-root DIR     default /dev
  --socket PATH      default $XDG_RUNTIME_DIR/rproc-supervisor.sock, else /run/rproc-supervisor.sock
  --socket-group G   the socket's group (a name or a number), so its members can connect
  --socket-mode MODE the socket's mode, octal (default 0660)
  --allow-uid N      accept only peers with this uid (repeatable; with --allow-gid, either matches)
  --allow-gid N      accept only peers with this gid as their group or one of their supplementary
                     groups (repeatable)
  --kernel K         a profile (${KERNEL_PROFILES.join(', ')}) or a release (6.1.192); default: with sim
                     ${DEFAULT_PROFILE}, with sysfs/cdev the profile of this kernel's release (uname -r)
  --poll-ms MS       how often state is polled (default 250)
  --probe-timeout MS an acquire of a processor that is not there waits up to MS for it to appear
                     (hotplug) before ENODEV (default 0: ENODEV at once)
  --rescan-ms MS     with sysfs/cdev: processors that appear or disappear are heard of through kernel
                     uevents (netlink) when --sysfs-root is /sys/class/remoteproc; elsewhere (a mounted
                     twin, a container without netlink) the class directory is rescanned every MS
                     (default ${DEFAULT_RESCAN_MS}; 0: never)
  --config FILE      per-processor settings: policy, firmware, offGraceMs, … (JSON, docs/config.md)
  --policy N=P       processor N (name or remoteprocN) gets policy P: shared (default), exclusive, attach,
                     observe (repeatable; over --config)
  --log-json         log one JSON object per line
  --inspect[=PORT]   serve the live inspector on 127.0.0.1:PORT (default: a free port); logs its URL
  --stately-ws URL   with --inspect: also forward inspection events to this WebSocket (Stately's relay)
${LIMIT_HELP}
  --resume-grace-ms MS  under a service manager's fd store: how long leases of the previous
                     incarnation may resume, and inherited processors wait for them (default 10000)
  --fd-store         the service manager keeps descriptors (FileDescriptorStoreMax=) though it does not
                     say so in $FDSTORE (systemd before 254)
  -h, --help         show this help

Stops cleanly on SIGTERM or SIGINT: announces the stops (stopAckTimeoutMs), ends every lease in reverse
order, stops what it holds, exits 0. A processor past its crashLimit with action exit makes it shut down
the same way and exit 70.
Under systemd (docs/systemd.md) it serves on a passed socket (LISTEN_FDS), notifies READY=1, STATUS=,
WATCHDOG=1 and STOPPING=1 ($NOTIFY_SOCKET), and with hybrid on cdev and an fd store hands each
/dev/remoteprocN it holds to the service manager: a SIGTERM then exits without stopping what live leases
hold, the next incarnation takes the descriptors back and its clients resume their leases.
`;

/** Runs the daemon until SIGTERM/SIGINT. Resolves with the exit code. */
export async function daemonCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = commandArgs('daemon', DAEMON_HELP, io, inspectWithoutPort(args), {
    strategy: { type: 'string' },
    driver: { type: 'string' },
    processors: { type: 'string' },
    'sysfs-root': { type: 'string' },
    'dev-root': { type: 'string' },
    socket: { type: 'string' },
    'allow-uid': { type: 'string', multiple: true },
    'allow-gid': { type: 'string', multiple: true },
    'socket-group': { type: 'string' },
    'socket-mode': { type: 'string' },
    kernel: { type: 'string' },
    'poll-ms': { type: 'string' },
    'probe-timeout': { type: 'string' },
    'rescan-ms': { type: 'string' },
    'log-json': { type: 'boolean' },
    config: { type: 'string' },
    policy: { type: 'string', multiple: true },
    'resume-grace-ms': { type: 'string' },
    'fd-store': { type: 'boolean' },
    ...LIVE_INSPECT_OPTIONS,
    ...LIMIT_OPTIONS,
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const usage = (msg: string) => {
    io.stderr(`rproc-supervisor daemon: ${msg}\n`);
    return EXIT.usage;
  };
  const logJson = values['log-json'] === true;
  const journal = stderrIsJournal();
  const log = (entry: { level: string; msg: string; [k: string]: unknown }) => {
    // What a peer wrote (a client label…) may be in the entry: escaped, it cannot forge a line.
    const line = logJson
      ? escapeJson(JSON.stringify({ time: new Date().toISOString(), ...entry }))
      : `${entry.level}: ${escapeText(entry.msg)}${Object.entries(entry)
          .filter(([k]) => k !== 'level' && k !== 'msg')
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? escapeText(v) : escapeJson(JSON.stringify(v))}`)
          .join('')}`;
    io.stderr(`${journal ? journalPrefix(entry.level) : ''}${line}\n`);
  };
  const strategy = (values.strategy as string | undefined) ?? 'hybrid';
  if (strategy !== 'hybrid' && strategy !== 'sysfs-monitor')
    return usage(`--strategy ${strategy}: expected hybrid or sysfs-monitor`);
  const devRoot = (values['dev-root'] as string | undefined) ?? '/dev';
  const sysfsRoot = (values['sysfs-root'] as string | undefined) ?? '/sys/class/remoteproc';
  let driverName = values.driver as string | undefined;
  if (!driverName) {
    // Never a silent simulator: a board without the character device gets no fake processors.
    if (!existsSync(join(devRoot, 'remoteproc0'))) {
      io.stderr(
        `rproc-supervisor daemon: no ${join(devRoot, 'remoteproc0')}, so no cdev driver to default to: name one, --driver cdev|sysfs (they wait for processors to appear), or --driver sim for the in-process simulator\n`,
      );
      return EXIT.unavailable;
    }
    driverName = 'cdev';
  }
  if (driverName === 'sysfs' && strategy === 'hybrid') {
    return usage(
      'hybrid needs a driver that holds /dev/remoteprocN (cdev, or sim); use --driver cdev, or --strategy sysfs-monitor',
    );
  }
  const flag = kernelFlag(values.kernel as string | undefined);
  if (!flag.ok) return usage(flag.error.detail as string);
  const chosen = daemonKernel(values.kernel as string | undefined, driverName, release());
  const kernel = chosen.profile;
  const ids = (name: string) => ((values[name] as string[] | undefined) ?? []).map(Number);
  const allowUids = ids('allow-uid');
  const allowGids = ids('allow-gid');
  if ([...allowUids, ...allowGids].some((n) => !Number.isInteger(n) || n < 0))
    return usage('--allow-uid/--allow-gid: expected non-negative integers');
  const access = socketAccessArgs(
    values['socket-group'] as string | undefined,
    values['socket-mode'] as string | undefined,
  );
  if (!access.ok) return usage(access.error.detail ?? access.error.code);
  const pollMs = Number((values['poll-ms'] as string | undefined) ?? 250);
  if (!Number.isInteger(pollMs) || pollMs <= 0) return usage('--poll-ms: expected a positive integer');
  const probeTimeoutMs = Number((values['probe-timeout'] as string | undefined) ?? 0);
  if (!Number.isInteger(probeTimeoutMs) || probeTimeoutMs < 0 || probeTimeoutMs > MAX_TTL_MS)
    return usage(`--probe-timeout: expected an integer from 0 to ${MAX_TTL_MS} (ms)`);
  const rescanMs = Number((values['rescan-ms'] as string | undefined) ?? DEFAULT_RESCAN_MS);
  if (!Number.isInteger(rescanMs) || rescanMs < 0 || rescanMs > MAX_TTL_MS)
    return usage(`--rescan-ms: expected an integer from 0 to ${MAX_TTL_MS} (ms)`);
  const settings = readSupervisionConfig(
    values.config as string | undefined,
    (values.policy as string[] | undefined) ?? [],
  );
  if (!settings.ok) return usage(settings.message);
  const inspect = liveInspectPort(values);
  if (!inspect.ok) return usage(inspect.message);
  const inspectPort = inspect.port;
  const limitArgs = limitFlags(values);
  if (!limitArgs.ok) return usage(limitArgs.message);
  const resumeGraceMs = Number((values['resume-grace-ms'] as string | undefined) ?? 10_000);
  if (!Number.isInteger(resumeGraceMs) || resumeGraceMs < 0 || resumeGraceMs > 2147483647)
    return usage('--resume-grace-ms: expected an integer from 0 to 2147483647 (ms)');
  // What a service manager passed and says (nothing without one).
  const sd = daemonSystemd(log);
  const manager = sd.manager;
  const store =
    manager &&
    (manager.fdStoreMax > 0 || values['fd-store'] === true) &&
    strategy === 'hybrid' &&
    driverName === 'cdev'
      ? manager
      : null;
  if (!store && sd.devices.size > 0) {
    // Not used this time (another driver or strategy, no fd store): closed, and out of the store.
    for (const [device, fd] of sd.devices) {
      if (manager) unstoreFd(manager, device, log);
      closeSync(fd);
    }
    sd.devices.clear();
  }

  let driver: RprocDriver;
  let twin: KernelTwin | undefined;
  let cdev: CdevDriver | undefined;
  if (driverName === 'sim') {
    let processors: ProcessorJson[] = [{ name: 'm4' }];
    if (values.processors) {
      const file = values.processors as string;
      const r = readProcessorsFile(file);
      if (!r.ok) return usage(processorsFileMessage(file, r.error));
      processors = r.value;
    }
    // The kernel twin is loaded only for the sim driver: a board's daemon never runs it.
    const { createSimDriver } = await import('../actors/drivers/simDriver.js');
    const sim = createSimDriver({ processors, kernel });
    twin = sim.twin;
    driver = sim;
  } else if (driverName === 'cdev') {
    cdev = createCdevDriver({
      sysfsRoot,
      devRoot,
      ...(store
        ? {
            inherited: sd.devices,
            onHold: (device: string, fd: number) => storeFd(store, device, fd, log),
            onLetGo: (device: string) => unstoreFd(store, device, log),
          }
        : {}),
    });
    driver = cdev;
  } else if (driverName === 'sysfs') {
    driver = createSysfsDriver({ root: sysfsRoot });
  } else {
    return usage(`--driver ${driverName}: expected sim, sysfs or cdev`);
  }

  // A real driver follows processors that come and go: uevents on the kernel's own sysfs, else a rescan.
  const hotplug =
    driverName === 'sim' ? undefined : { netlink: sysfsRoot === '/sys/class/remoteproc', rescanMs };
  // A crash limit's `exit`: shut down as on SIGTERM, then exit 70 so that the service manager acts.
  let exitCode: number = EXIT.ok;
  const book = store ? leaseBook(sd, store, resumeGraceMs, log) : null;
  const inherited = cdev?.inherited ?? [];
  if (inherited.length > 0)
    log({ level: 'info', msg: 'descriptors handed back by the service manager', devices: inherited });
  const supervisor = await createSupervisor({
    driver,
    strategy,
    pollMs,
    log,
    settings: settings.value,
    ...(hotplug ? { hotplug } : {}),
    ...(inherited.length > 0 ? { inherited, inheritedGraceMs: resumeGraceMs } : {}),
    ...(book ? { firstLeaseId: book.firstLeaseId() } : {}),
    onExit: () => {
      exitCode = EXIT.software;
      onSignal('crash-limit');
    },
  });
  if (inherited.length > 0) crashPoint('restart');
  if (store && store.fdStoreMax > 0 && store.fdStoreMax < supervisor.status().processors.length + 1)
    log({
      level: 'warn',
      msg: 'the fd store is smaller than the processors and the lease table: raise FileDescriptorStoreMax=',
      fdStoreMax: store.fdStoreMax,
    });
  const listed = supervisor.status().processors;
  for (const issue of unknownProcessors(settings.value, listed))
    log({ level: 'warn', msg: 'config names no present processor', issue });
  const socketPath =
    (values.socket as string | undefined) ??
    (sd.listen ? `fd ${sd.listen.fd} (${sd.listen.name})` : defaultSocket());
  // The signal handlers are in place before the socket exists: a SIGTERM as soon as the daemon
  // says `listening` (or while it starts) stops it cleanly, once what has started can be closed.
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>> | null = null;
  let live: LiveInspector | null = null;
  let started = false;
  let stopSignal: string | null = null;
  let stopNotifying = () => {};
  const stop = async (signal: string) => {
    manager?.notify({ STOPPING: '1', STATUS: 'shutting down' });
    stopNotifying();
    // A crash limit's exit stops what it holds, store or not: the processor is failing.
    if (store && signal !== 'crash-limit') {
      // The fd store keeps what live leases hold running: this exit is a restart's first half (or,
      // if the unit stops, the service manager closes the descriptors and the kernel stops them).
      book?.flush();
      const held = supervisor.status().processors.filter((p) => p.leases.length > 0);
      log({
        level: 'info',
        msg: 'handing over to the service manager: exiting without stopping what leases hold',
        signal,
        processors: held.map((p) => p.device),
      });
      resolveExit(EXIT.ok);
      return;
    }
    log({ level: 'info', msg: 'shutting down', signal });
    await live?.close();
    await daemon?.close();
    await supervisor.close();
    log({ level: 'info', msg: 'stopped', exit: exitCode });
    resolveExit(exitCode);
  };
  const onSignal = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (started) void stop(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    const bound = connectionBound();
    daemon = await startDaemon({
      supervisor,
      socketPath,
      allowUids,
      allowGids,
      ...access.value,
      log,
      limits: limitArgs.limits,
      ...(bound.maxConnections !== undefined ? { maxConnections: bound.maxConnections } : {}),
      probeTimeoutMs,
      ...(sd.listen ? { listenFd: sd.listen.fd } : {}),
      ...(book ? { resume: book } : {}),
    });
  } catch (err) {
    await supervisor.close();
    io.stderr(`rproc-supervisor daemon: ${socketPath}: ${errnoOf(err)}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  if (inspectPort !== null) {
    try {
      // Loaded only when asked for: the inspector's modules (ws, elkjs, @statelyai/inspect) are most of
      // a daemon's memory otherwise (docs/benchmarks.md, "Memory").
      const { startLiveInspector } = await import('../inspector/startLiveInspector.js');
      live = await startLiveInspector({
        supervisor,
        ...(twin ? { twin } : {}),
        port: inspectPort,
        title: `daemon ${socketPath}`,
        statelyUrl: values['stately-ws'] as string | undefined,
      });
    } catch (err) {
      await daemon.close();
      await supervisor.close();
      io.stderr(`rproc-supervisor daemon: --inspect: ${errnoOf(err)}: ${(err as Error).message}\n`);
      return EXIT.failed;
    }
    log({ level: 'info', msg: 'inspector', url: live.url });
  }
  log({ level: 'info', msg: `kernel profile ${kernel}`, profile: kernel, from: chosen.from });
  log({
    level: 'info',
    msg: 'ready',
    strategy,
    driver: driver.kind,
    processors: supervisor.status().processors.map((p) => `${p.device}:${p.name}`),
    policies: listed.map((p) => `${p.name}:${p.policy}`),
    hotplug: supervisor.status().hotplug.source,
  });
  const { hotplug: watching } = supervisor.status();
  if (watching.waiting)
    log({
      level: 'warn',
      msg: `no processor under ${sysfsRoot} yet: waiting for hotplug (${watching.source === 'netlink' ? 'kernel uevents' : `a rescan every ${rescanMs} ms`})`,
      hotplug: watching.source,
    });
  else if (driver.kind !== 'sim' && watching.source === 'none')
    log({
      level: 'info',
      msg: 'hotplug off (--rescan-ms 0, no netlink): processors that come later are not seen',
    });
  if (manager) {
    manager.notify({ READY: '1', STATUS: statusLine(supervisor, book), MAINPID: String(process.pid) });
    stopNotifying = keepNotifying(manager, supervisor, driver, book, log);
  }
  started = true;
  if (stopSignal) void stop(stopSignal);
  return exited;
}

/**
 * The kernel profile the daemon works with, and where it came from (logged at start): `--kernel` when
 * given; with a real driver (sysfs, cdev) the profile of `uname -r`; with sim, or a release string
 * that maps to none, the default profile.
 */
export function daemonKernel(
  flag: string | undefined,
  driver: string,
  uname: string,
): { profile: KernelProfile; from: string } {
  const given = flag === undefined ? undefined : parseKernel(flag);
  if (given) return { profile: given, from: `--kernel ${flag}` };
  if (driver === 'sim') return { profile: DEFAULT_PROFILE, from: 'the default (sim driver)' };
  const ofRelease = parseKernel(uname);
  return ofRelease
    ? { profile: ofRelease, from: `uname -r ${uname}` }
    : { profile: DEFAULT_PROFILE, from: `the default (uname -r ${uname} maps to no profile)` };
}
