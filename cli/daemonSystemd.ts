// The daemon under a service manager (docs/systemd.md): passed sockets and stored descriptors, sd_notify READY/STATUS/WATCHDOG/STOPPING, the fd store.

import { closeSync, fstatSync } from 'node:fs';
import { listenFds, type PassedFd } from '../actors/daemon/listenFds.js';
import { createMemfd, readWhole, writeWhole } from '../actors/daemon/memfd.js';
import { type ServiceManager, serviceManager } from '../actors/daemon/sdNotify.js';
import type { RprocDriver } from '../actors/drivers/RprocDriver.js';
import type { Supervisor } from '../supervisors/runtime/createSupervisor.js';
import { ResumeBook } from '../supervisors/runtime/resumeBook.js';
import type { DaemonLog } from '../supervisors/runtime/startDaemon.js';

/** The fd store's name of the lease table (a memfd). */
export const LEASES_FDNAME = 'leases';
const DEVICE_NAME = /^remoteproc\d+$/;

/** What the daemon found of a service manager at start. */
export interface DaemonSystemd {
  manager: ServiceManager | null;
  /** A listening socket passed by socket activation, and its name. */
  listen: PassedFd | null;
  /** Stored `remoteprocN` descriptors handed back, by device (for the cdev driver). */
  devices: Map<string, number>;
  /** The stored lease table (a memfd), when one was handed back. */
  leasesFd: number | null;
}

/**
 * Reads what a service manager passed (sd_listen_fds) and describes (sd_notify's environment). Passed
 * descriptors the daemon has no use for are closed and logged. Without a service manager: nothing.
 */
export function daemonSystemd(log: DaemonLog): DaemonSystemd {
  const manager = serviceManager();
  const passed = listenFds();
  const found: DaemonSystemd = { manager, listen: null, devices: new Map(), leasesFd: null };
  for (const p of passed) {
    if (p.kind === 'socket' && !found.listen) found.listen = p;
    else if (p.kind === 'file' && DEVICE_NAME.test(p.name) && !found.devices.has(p.name))
      found.devices.set(p.name, p.fd);
    else if (p.kind === 'file' && p.name === LEASES_FDNAME && found.leasesFd === null) found.leasesFd = p.fd;
    else {
      log({ level: 'warn', msg: 'passed descriptor not used, closed', fd: p.fd, name: p.name, kind: p.kind });
      closeFd(p.fd);
    }
  }
  return found;
}

function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Hands a descriptor to the fd store (FDSTORE=1 under `name`; not polled: the cdev cannot be). */
export function storeFd(manager: ServiceManager, name: string, fd: number, log: DaemonLog): void {
  const r = manager.notify({ FDSTORE: '1', FDNAME: name, FDPOLL: '0' }, [fd]);
  if (!r.ok)
    log({ level: 'warn', msg: 'cannot hand a descriptor to the fd store', name, errno: r.error.code });
}

/** Removes `name`'s descriptors from the fd store (FDSTOREREMOVE=1). */
export function unstoreFd(manager: ServiceManager, name: string, log: DaemonLog): void {
  const r = manager.notify({ FDSTOREREMOVE: '1', FDNAME: name });
  if (!r.ok)
    log({ level: 'warn', msg: 'cannot remove a descriptor from the fd store', name, errno: r.error.code });
}

/**
 * The resume book of a daemon with an fd store: its lease table lives in a memfd the service manager
 * keeps (the one handed back, else a new one handed to it), so the next incarnation can resume the
 * leases. The previous table is read first.
 */
export function leaseBook(
  sd: DaemonSystemd,
  manager: ServiceManager,
  graceMs: number,
  log: DaemonLog,
): ResumeBook | null {
  let fd = sd.leasesFd;
  let restored = '';
  if (fd !== null) restored = readWhole(fd);
  else {
    const m = createMemfd('rproc-supervisor-leases');
    if (!m.ok) {
      log({ level: 'warn', msg: 'no lease table: leases cannot be resumed', errno: m.error.code });
      return null;
    }
    fd = m.value;
    storeFd(manager, LEASES_FDNAME, fd, log);
  }
  const table = fd;
  const book = new ResumeBook({
    save: (text) => writeWhole(table, text),
    restored,
    graceMs,
    onUnreadable: (detail) =>
      log({ level: 'warn', msg: 'stored lease table unreadable: no lease resumes', detail }),
  });
  if (book.pending.length > 0)
    log({ level: 'info', msg: 'leases may resume', leases: book.pending.length, graceMs });
  return book;
}

/** The one-line STATUS= of the daemon: what runs and how many leases. */
export function statusLine(supervisor: Supervisor, book: ResumeBook | null): string {
  const ps = supervisor.status().processors;
  const running = ps.filter((p) => p.state === 'running' || p.state === 'attached').length;
  const leases = ps.reduce((n, p) => n + p.leases.length, 0);
  const resuming = book?.pending.length ?? 0;
  return `${running}/${ps.length} processors running, ${leases} leases${resuming ? `, ${resuming} to resume` : ''}`;
}

/**
 * Keeps the service manager told while the daemon serves: STATUS= when the summary changes (checked
 * every second), WATCHDOG=1 every half of WATCHDOG_USEC when it is set — only after a driver read
 * (`state` of the first processor, else the processor list) answers within a quarter of it, so a
 * daemon whose event loop or driver is stuck is not pinged and the service manager restarts it.
 * Returns the stop.
 */
export function keepNotifying(
  manager: ServiceManager,
  supervisor: Supervisor,
  driver: RprocDriver,
  book: ResumeBook | null,
  log: DaemonLog,
): () => void {
  let last = '';
  const status = setInterval(() => {
    const line = statusLine(supervisor, book);
    if (line === last) return;
    last = line;
    manager.notify({ STATUS: line });
  }, 1000);
  status.unref();
  let watchdog: NodeJS.Timeout | undefined;
  const ms = manager.watchdogMs;
  if (ms !== null) {
    let missed = false;
    // A read still unanswered is not asked again: stuck reads would fill libuv's thread pool.
    let pending: Promise<boolean> | null = null;
    const probe = async (): Promise<boolean> => {
      const first = supervisor.status().processors[0];
      pending ??= (
        first ? driver.state(first.device).then((r) => r.ok) : driver.list().then(() => true)
      ).finally(() => {
        pending = null;
      });
      const read = pending;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), Math.max(1, ms / 4));
      });
      const answered = await Promise.race([read.catch(() => false), late]);
      clearTimeout(timer);
      return answered;
    };
    watchdog = setInterval(
      () =>
        void probe().then((alive) => {
          if (alive) manager.notify({ WATCHDOG: '1' });
          if (alive === missed) return;
          missed = !alive;
          log({
            level: 'warn',
            msg: alive
              ? 'driver answers again: watchdog pings resume'
              : 'driver does not answer: no watchdog ping',
          });
        }),
      Math.max(1, ms / 2),
    );
    watchdog.unref();
  }
  return () => {
    clearInterval(status);
    if (watchdog) clearInterval(watchdog);
  };
}

/**
 * Whether this process's stderr is the journal's stream (`$JOURNAL_STREAM` is its `dev:inode`): then
 * each line gets its syslog priority prefix (`<6>` info, `<4>` warning), sd-daemon(3).
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.JOURNAL_STREAM;
  if (!v) return false;
  const [dev, ino] = v.split(':');
  try {
    const st = fstatSync(2, { bigint: true });
    return String(st.dev) === dev && String(st.ino) === ino;
  } catch {
    return false;
  }
}

/** The sd-daemon(3) priority prefix of a log level. */
export function journalPrefix(level: string): string {
  return level === 'warn' ? '<4>' : level === 'error' ? '<3>' : '<6>';
}
