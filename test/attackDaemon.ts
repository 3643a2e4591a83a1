// A real daemon process for the attack suite: spawned through a shell (for `ulimit -n`), its log, RSS and a legitimate holder.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bin } from './bin.js';
import { okReply } from './okReply.js';
import { until } from './wait.js';

/** A daemon under attack. */
export interface AttackedDaemon {
  dir: string;
  socket: string;
  proc: ChildProcess;
  pid: number;
  /** What it logged on stderr so far. */
  log(): string;
  /** Its resident set, in KiB, from /proc/<pid>/status. */
  rssKiB(): number;
  /** A fresh connection's `status` reply answers (on a new connection), within `ms`. */
  answers(ms?: number): Promise<boolean>;
  stop(): void;
}

/**
 * Spawns `rproc-supervisor daemon` on the sim driver with `processors` (default one fast m4) in a new
 * directory, with `extra` flags and, when given, `ulimit -n nofile` set by the shell that execs it.
 */
export async function attackedDaemon(
  opts: { extra?: string[]; nofile?: number; processors?: unknown[] } = {},
): Promise<AttackedDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-attack-'));
  const processors = opts.processors ?? [{ name: 'm4', bootMs: 5, stopMs: 5 }];
  writeFileSync(join(dir, 'p.json'), JSON.stringify(processors));
  const socket = join(dir, 'd.sock');
  const args = ['daemon', '--driver', 'sim', '--processors', join(dir, 'p.json'), '--socket', socket];
  const quoted = [process.execPath, bin, ...args, ...(opts.extra ?? [])].map((a) => `'${a}'`).join(' ');
  const script = `${opts.nofile ? `ulimit -n ${opts.nofile} && ` : ''}exec ${quoted}`;
  const proc = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  await until(() => existsSync(socket) && stderr.includes('ready'), 10_000, 20);
  const pid = proc.pid as number;
  return {
    dir,
    socket,
    proc,
    pid,
    log: () => stderr,
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0),
    async answers(ms = 3000) {
      const timeout = new Promise<false>((r) => setTimeout(() => r(false), ms));
      const ask = (async () => {
        const c = await DaemonClient.connect(socket);
        const r = await c.request({ op: 'status' });
        c.close();
        return r.ok;
      })().catch(() => false);
      return Promise.race([ask, timeout]);
    },
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

/** A legitimate holder: a lease on `processor` with a TTL, pinged every `ttlMs / 4`; `kept()` checks it. */
export async function legitimateHolder(socket: string, processor = 'm4', ttlMs = 2000) {
  const c = await DaemonClient.connect(socket);
  const lease = okReply(await c.request({ op: 'acquire', processor, client: 'legit', ttlMs })).lease;
  const lost: unknown[] = [];
  c.on('event', (e: { event: string }) => {
    if (e.event === 'lease.lost') lost.push(e);
  });
  let closed = false;
  c.on('close', () => {
    closed = true;
  });
  const pinger = setInterval(() => void c.request({ op: 'ping' }), Math.max(1, ttlMs / 4));
  return {
    client: c,
    lease,
    /** The lease is still held: no lease.lost, the connection open, and `status` lists it. */
    async kept(): Promise<boolean> {
      if (closed || lost.length) return false;
      const r = await c.request({ op: 'status', processor });
      return r.ok && r.status.processors[0]?.leases.some((l) => l.lease === lease) === true;
    },
    close() {
      clearInterval(pinger);
      c.close();
    },
  };
}

/** A raw connection to `path` (no reading unless asked); resolves once connected, or null on error. */
export function rawConnect(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
    s.on('error', () => {});
  });
}
