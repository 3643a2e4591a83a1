// `rproc-supervisor twin --mount DIR`: the kernel twin mounted as files (FUSE), in the foreground until SIGINT/SIGTERM.

import { type MountedTwin, mountTwin } from '../actors/fuse/mountTwin.js';
import { startTwinStatusServer, type TwinStatusServer } from '../actors/fuse/twinStatusServer.js';
import type { ProcessorJson } from '../actors/kernel/processorSchema.js';
import { SYSFS_ATTRS } from '../actors/kernel/sysfsAttributes.js';
import { type LiveInspector, startLiveInspector } from '../inspector/startLiveInspector.js';
import { DEFAULT_PROFILE, KERNEL_PROFILES, kernelFlag } from '../machines/profile.js';
import { commandArgs } from './commandArgs.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';
import { inspectWithoutPort, LIVE_INSPECT_OPTIONS, liveInspectPort } from './liveInspectFlags.js';
import { processorsFileMessage, readProcessorsFile } from './processorsFile.js';

export const TWIN_HELP = `Usage: rproc-supervisor twin --mount DIR [--kernel ${KERNEL_PROFILES.join('|')}|RELEASE] [--processors FILE]
                             [--socket PATH] [--json] [--inspect[=PORT]] [--stately-ws URL]
       rproc-supervisor twin add|remove …  (a running twin's processors, at run time: twin add --help)

Mounts the kernel twin under DIR (FUSE, as root): class/remoteproc/remoteprocN/{${SYSFS_ATTRS.join(',')}}
and dev/remoteprocN, with the kernel's strings, errno values and release semantics. Runs in the
foreground; unmounts on SIGINT or SIGTERM. See docs/twin.md.

Options:
  --mount DIR        the mount point (created if missing); a dead mount left by a killed twin is cleared
  --kernel K         a profile (${KERNEL_PROFILES.join(', ')}) or a release (6.1.192, what uname -r prints); default ${DEFAULT_PROFILE}
  --processors FILE  a JSON array of processor objects, as for the daemon (default: one, "m4")
  --socket PATH      also answer "rproc-supervisor status --socket PATH" (status, subscribe, ping),
                     crash, and twin add|remove (processors added and unbound at run time)
  --json             print one JSON line describing the mount, instead of text
  --inspect[=PORT]   serve the live inspector on 127.0.0.1:PORT (default: a free port); prints its URL
  --stately-ws URL   with --inspect: also forward inspection events to this WebSocket (Stately's relay)
  -h, --help         show this help

Drive it as a board: rproc-supervisor daemon --driver cdev --sysfs-root DIR/class/remoteproc --dev-root DIR/dev

Exit status: 0 after SIGINT/SIGTERM; 1 when DIR cannot be used (EBUSY: a live mount) or the mount ends
under it; 2 bad usage or a bad processors file; 69 (EX_UNAVAILABLE) without /dev/fuse; 77 (EX_NOPERM)
when not allowed to mount (run as root).
`;

function describe(m: MountedTwin, kernel: string, socket: string | undefined, inspector: string | null) {
  return {
    mount: m.dir,
    sysfsRoot: m.sysfsRoot,
    devRoot: m.devRoot,
    kernel,
    fuse: m.protocol,
    socket: socket ?? null,
    inspector,
    clearedStale: m.clearedStale !== null,
    processors: m.twin.processors.map((p) => ({
      device: p.device,
      name: p.name,
      state: p.context.state,
      sysfs: `${m.sysfsRoot}/${p.device}`,
      dev: `${m.devRoot}/${p.device}`,
    })),
  };
}

/** Exit code and message for a failure to mount. */
function mountFailure(err: unknown, dir: string): { code: number; message: string } {
  const code = errnoOf(err);
  const path = (err as { path?: string }).path;
  if (path === '/dev/fuse') {
    if (code === 'EACCES' || code === 'EPERM')
      return { code: EXIT.noPermission, message: `/dev/fuse: ${code}: run as root` };
    return {
      code: EXIT.unavailable,
      message: `/dev/fuse: ${code}: FUSE is not available (Debian: apt install fuse3)`,
    };
  }
  if (code === 'EPERM')
    return { code: EXIT.noPermission, message: `mount ${dir}: EPERM: mounting needs root (CAP_SYS_ADMIN)` };
  return { code: EXIT.failed, message: (err as Error).message ?? String(err) };
}

/** Runs `twin` until SIGINT/SIGTERM. Resolves with the exit code. */
export async function twinCommand(args: string[], io: CliIo): Promise<number> {
  // `twin add NAME` / `twin remove PROC`: a running twin's processors changed through its --socket.
  if (args[0] === 'add' || args[0] === 'remove')
    return (await import('./twinEdit.js')).twinEditCommand(args[0], args.slice(1), io);
  const parsed = commandArgs('twin', TWIN_HELP, io, inspectWithoutPort(args), {
    mount: { type: 'string' },
    kernel: { type: 'string' },
    processors: { type: 'string' },
    socket: { type: 'string' },
    json: { type: 'boolean' },
    ...LIVE_INSPECT_OPTIONS,
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const fail = (code: number, msg: string) => {
    io.stderr(`rproc-supervisor twin: ${msg}\n`);
    return code;
  };
  const dir = v.mount as string | undefined;
  if (!dir) return fail(EXIT.usage, `--mount DIR is required\n\n${TWIN_HELP}`);
  const flag = kernelFlag(v.kernel as string | undefined);
  if (!flag.ok) return fail(EXIT.usage, flag.error.detail as string);
  const kernel = flag.value;
  const inspect = liveInspectPort(v);
  if (!inspect.ok) return fail(EXIT.usage, inspect.message);
  const inspectPort = inspect.port;
  let processors: ProcessorJson[] = [{ name: 'm4' }];
  if (v.processors) {
    const file = v.processors as string;
    const r = readProcessorsFile(file);
    if (!r.ok) return fail(EXIT.usage, processorsFileMessage(file, r.error));
    processors = r.value;
  }

  let m: MountedTwin;
  try {
    m = await mountTwin({
      dir,
      processors,
      kernel,
      log: (msg) => io.stderr(`rproc-supervisor twin: ${msg}\n`),
    });
  } catch (err) {
    const f = mountFailure(err, dir);
    return fail(f.code, f.message);
  }
  if (m.clearedStale)
    io.stderr(`rproc-supervisor twin: cleared a dead mount on ${m.dir} (its server was gone)\n`);
  const socket = v.socket as string | undefined;
  let server: TwinStatusServer | undefined;
  let inspector: LiveInspector | undefined;
  // Who holds each dev/remoteprocN: the pid and uid FUSE reported with each open.
  const holdersOf = (index: number) =>
    m
      .deviceHolders()
      .filter((h) => h.index === index)
      .map((h) => ({ client: `pid ${h.pid}`, pid: h.pid, uid: h.uid, fd: h.fd, since: h.since }));
  try {
    if (socket)
      server = await startTwinStatusServer(m.twin, socket, (index) =>
        holdersOf(index).map((h) => ({ ...h, lease: `fd ${h.fd}` })),
      );
    if (inspectPort !== null)
      inspector = await startLiveInspector({
        twin: m.twin,
        port: inspectPort,
        title: `twin ${m.dir}`,
        holders: (index) => holdersOf(index).map((h) => ({ ...h, state: `open (uid ${h.uid})` })),
        statelyUrl: v['stately-ws'] as string | undefined,
      });
  } catch (err) {
    await server?.close();
    await m.close();
    return fail(EXIT.failed, `${socket ?? 'inspector'}: ${errnoOf(err)}: ${(err as Error).message}`);
  }
  // The handlers are in place before the line that says to press Ctrl-C: a SIGINT sent as soon as it is
  // read must not find Node's default action (death by signal) still there.
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let stopping = false;
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    await inspector?.close();
    await server?.close();
    await m.close();
    io.stderr(`rproc-supervisor twin: ${why}; unmounted ${m.dir}\n`);
    resolveExit(code);
  };
  const onInt = () => void stop('SIGINT', EXIT.ok);
  const onTerm = () => void stop('SIGTERM', EXIT.ok);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  void m.ended.then((reason) => stop(`the mount ended under us (${reason})`, EXIT.failed));
  const d = describe(m, kernel, socket, inspector?.url ?? null);
  if (v.json) io.stdout(`${JSON.stringify(d)}\n`);
  else {
    io.stdout(
      `mounted the kernel twin (profile ${kernel}) on ${m.dir}, FUSE ${m.protocol.negotiated} (kernel offers ${m.protocol.kernel})\n` +
        d.processors.map((p) => `  ${p.device} (${p.name}): ${p.sysfs}/  ${p.dev}\n`).join('') +
        (socket ? `  status: rproc-supervisor status --socket ${socket}\n` : '') +
        (inspector ? `  inspector: ${inspector.url}\n` : '') +
        `stop with Ctrl-C or SIGTERM\n`,
    );
  }
  return exited;
}
