// The lab's guest runner: runs each document of a job on the real kernel, one results.jsonl line each.
//
//   node runner.js /mnt/out/job.json
//
// Per document: write the firmware files, insmod the fake driver with the document's processors, run
// the operations (sysfs by the runner itself, descriptors in one real process per pid), read each
// processor's final fields, kill every process (their releases run), rmmod. Time is real: `advance`
// sleeps, `wait: false` issues the call and goes on.

import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ioctlRequestNumber, RPROC_GET_SHUTDOWN_ON_RELEASE } from '../../actors/kernel/cdevCommand.js';
import type { KernelDocument, KernelOp } from '../../actors/kernel/kernelDocument.js';
import type { OpResult, ProcessorFinal } from '../../actors/kernel/runKernelDocument.js';
import type { Errno } from '../../machines/errno.js';
import type { LabCommandResult, LabDocResult, LabJob } from '../protocol.js';
import { Agents } from './agents.js';
import { moduleParams, processorIndex } from './moduleParams.js';

type Outcome = { ok: true; value?: string | number } | { ok: false; errno: string };
const okay: Outcome = { ok: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** insmod/rmmod without blocking the event loop (a stuck rmmod must not stop the watchdog). */
const run = promisify(execFile);
const errnoOf = (err: unknown): Outcome => ({
  ok: false,
  errno: (err as NodeJS.ErrnoException).code ?? 'EIO',
});
const DEBUGFS = '/sys/kernel/debug/rproc_fake';

async function sysfsWrite(path: string, value: string): Promise<Outcome> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'w');
  } catch (err) {
    return errnoOf(err);
  }
  try {
    await handle.write(Buffer.from(value, 'utf8'));
    return okay;
  } catch (err) {
    return errnoOf(err);
  } finally {
    await handle.close();
  }
}

async function sysfsRead(path: string): Promise<Outcome> {
  try {
    return { ok: true, value: await readFile(path, 'utf8') };
  } catch (err) {
    return errnoOf(err);
  }
}

/** The `remoteprocN` the kernel gave processor `i` of the document (through its platform device). */
function devices(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const dir = `/sys/devices/platform/rproc_fake.${i}/remoteproc`;
    const found = readdirSync(dir).find((d) => d.startsWith('remoteproc'));
    if (!found) throw new Error(`rproc_fake.${i} registered no remoteproc device`);
    return found;
  });
}

function status(i: number): { state: string; power: number; flag: number; crashes: number } {
  const [state = '?', power = '0', flag = '0', crashes = '0'] = readFileSync(`${DEBUGFS}/${i}/status`, 'utf8')
    .trim()
    .split(' ');
  return { state, power: Number(power), flag: Number(flag), crashes: Number(crashes) };
}

/** The devcoredump devices whose failing device is `device` (remoteprocN). */
function coredumps(device: string): string[] {
  return safeList('/sys/class/devcoredump')
    .split(' ')
    .filter((d) => {
      try {
        return realpathSync(`/sys/class/devcoredump/${d}/failing_device`).endsWith(`/${device}`);
      } catch {
        return false; // `disabled`, a file
      }
    });
}

function safeList(dir: string): string {
  try {
    return readdirSync(dir).join(' ');
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  }
}

/** Writes every firmware file the document's processors can load (none for `firmwareMissing`). */
function writeFirmware(dir: string, doc: KernelDocument): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const missing = new Set(doc.processors.filter((p) => p.firmwareMissing).map((p) => p.name));
  const names = new Set<string>();
  doc.processors.forEach((p) => {
    if (!missing.has(p.name)) names.add(p.firmware ?? 'rproc-fw.elf');
  });
  for (const o of doc.ops) {
    if (o.op !== 'sysfs.write' || o.attr !== 'firmware') continue;
    const p = doc.processors[processorIndex(doc, o.rproc)];
    const name = o.value.split('\n')[0] ?? '';
    if (p && !missing.has(p.name) && name && !name.includes('/')) names.add(name);
  }
  for (const n of names) writeFileSync(join(dir, n), 'lab firmware\n');
}

/** Runs one document; never throws for what the kernel answers. */
async function runDocument(
  job: LabJob,
  doc: KernelDocument,
  agents: Agents,
): Promise<Omit<LabDocResult, 'name' | 'release' | 'ms'>> {
  writeFirmware(job.firmwareDir, doc);
  const pids = new Set<number>();
  const forked = new Set(doc.ops.flatMap((o) => (o.op === 'fork' ? [o.child] : [])));
  for (const o of doc.ops) if (o.op === 'cdev.open' && !forked.has(o.pid)) pids.add(o.pid);
  await agents.prestart(pids);
  await run('insmod', [job.module, ...moduleParams(doc, job.timeScale)]);
  const dev = devices(doc.processors.length);
  const at = (ref: string) => processorIndex(doc, ref);
  const opener = new Map<string, number | null>();
  let unloaded = false;
  const t0 = performance.now();
  const results: OpResult[] = [];
  const pending: Promise<void>[] = [];

  const perform = async (o: KernelOp): Promise<Outcome> => {
    switch (o.op) {
      case 'sysfs.read':
        return sysfsRead(`/sys/class/remoteproc/${dev[at(o.rproc)]}/${o.attr}`);
      case 'sysfs.write':
        return sysfsWrite(`/sys/class/remoteproc/${dev[at(o.rproc)]}/${o.attr}`, o.value);
      case 'power':
        return { ok: true, value: status(at(o.rproc)).power };
      case 'crash':
        return sysfsWrite(`${DEBUGFS}/${at(o.rproc)}/crash`, o.reason ?? 'unknown').then(() => okay);
      case 'advance':
        await sleep(o.ms * job.timeScale);
        return okay;
      case 'unbind':
        return sysfsWrite('/sys/bus/platform/drivers/rproc_fake/unbind', `rproc_fake.${at(o.rproc)}`);
      case 'unload':
        // rmmod with descriptors still open: the Oops hazard's first half (docs/abi.md).
        unloaded = true;
        return run('rmmod', ['rproc_fake']).then(
          () => okay,
          () => ({ ok: false, errno: 'EBUSY' }),
        );
      case 'coredump.discard': {
        const found = coredumps(dev[at(o.rproc)] ?? '');
        for (const d of found) {
          const r = await sysfsWrite(`/sys/class/devcoredump/${d}/data`, '1');
          console.error(`lab-runner:   discard ${d}: ${JSON.stringify(r)}`);
        }
        if (found.length === 0)
          console.error(`lab-runner:   no devcoredump: ${safeList('/sys/class/devcoredump')}`);
        return okay;
      }
      case 'suspend':
      case 'resume':
        return sysfsWrite(`${DEBUGFS}/${at(o.rproc)}/${o.op}`, '1').then(() => okay);
      case 'fork':
        if (agents.isDead(o.pid)) return { ok: false, errno: 'ESRCH' };
        if (agents.has(o.child) || agents.isDead(o.child)) return { ok: false, errno: 'EINVAL' };
        return agents
          .fork(o.pid, o.child)
          .then((r) => (r.ok ? okay : { ok: false, errno: r.errno ?? 'EIO' }));
      case 'kill':
        if (agents.isDead(o.pid)) return { ok: false, errno: 'ESRCH' };
        await agents.kill(o.pid);
        return okay;
      case 'cdev.open': {
        if (agents.isDead(o.pid)) return { ok: false, errno: 'ESRCH' };
        const r = await agents.call(o.pid, {
          cmd: 'open',
          label: o.fd,
          path: `/dev/${dev[at(o.rproc)]}`,
          write: o.mode !== 'r',
        });
        opener.set(o.fd, r.ok ? o.pid : null);
        return r.ok ? okay : { ok: false, errno: r.errno ?? 'EIO' };
      }
    }
    const owner = opener.get(o.fd);
    if (owner === null || owner === undefined) return { ok: false, errno: 'EBADF' };
    const pid = o.pid ?? owner;
    if (agents.isDead(pid)) return { ok: false, errno: 'ESRCH' };
    let r: Awaited<ReturnType<Agents['call']>>;
    switch (o.op) {
      case 'cdev.write':
        r = await agents.call(pid, { cmd: 'write', label: o.fd, value: o.value });
        break;
      case 'cdev.read':
        r = await agents.call(pid, { cmd: 'read', label: o.fd });
        break;
      case 'cdev.close':
        r = await agents.call(pid, { cmd: 'close', label: o.fd });
        break;
      case 'cdev.ioctl': {
        const request = ioctlRequestNumber(o.request) ?? 0;
        const get = request === RPROC_GET_SHUTDOWN_ON_RELEASE;
        r = await agents.call(pid, {
          cmd: 'ioctl',
          label: o.fd,
          request,
          get,
          ...(o.value === undefined ? {} : { value: o.value }),
        });
        break;
      }
    }
    return r.ok
      ? { ok: true, ...(r.value === undefined ? {} : { value: r.value }) }
      : { ok: false, errno: r.errno ?? 'EIO' };
  };

  for (const [i, o] of doc.ops.entries()) {
    console.error(`lab-runner:   ${i} ${o.op}`);
    const done = perform(o).then((r) => {
      // Real time divided by the time scale: comparable to the twin's virtual time, not equal to it.
      const res: OpResult = {
        i,
        op: o.op,
        ok: r.ok,
        t: Math.round((performance.now() - t0) / job.timeScale),
      };
      if (r.ok && r.value !== undefined) res.value = r.value;
      if (!r.ok) res.errno = r.errno as Errno;
      results[i] = res;
    });
    if (o.wait === false) {
      pending.push(done);
      // The twin's call takes its place on rproc->lock at once; a real one needs a moment to get there
      // (the thread pool, the syscall): let it, before the next operation (2 virtual ms).
      await sleep(2 * job.timeScale);
    } else await done;
  }
  await Promise.all(pending);
  // After `unload` the module's debugfs oracle is gone with it.
  const final: ProcessorFinal[] = (unloaded ? [] : doc.processors).map((p, i) => {
    const s = status(i);
    return {
      device: dev[i] ?? '?',
      name: p.name,
      state: s.state,
      power: s.power,
      shutdownOnRelease: s.flag,
      crashes: s.crashes,
    };
  });
  await agents.reset();
  if (!unloaded) await run('rmmod', ['rproc_fake']);
  return { results, final };
}

async function main(): Promise<void> {
  const jobPath = process.argv[2] ?? '/mnt/out/job.json';
  const job = JSON.parse(readFileSync(jobPath, 'utf8')) as LabJob;
  const out = join(dirname(jobPath), 'results.jsonl');
  const release = execFileSync('uname', ['-r']).toString().trim();
  const agents = await Agents.listen('/run/lab-agents.sock');
  for (const { name, doc } of job.documents) {
    const start = performance.now();
    // A call that never returns (a kernel bug, a lock held forever) ends the VM; the host starts a new
    // one for the documents after this one.
    const limit = 60_000 + job.timeScale * doc.ops.reduce((ms, o) => ms + (o.op === 'advance' ? o.ms : 0), 0);
    const watchdog = setTimeout(() => {
      const why = `timed out after ${limit} ms (an operation did not return)`;
      appendFileSync(
        out,
        `${JSON.stringify({ name, release, results: [], final: [], error: why, ms: limit })}\n`,
      );
      process.exit(3);
    }, limit);
    console.error(`lab-runner: ${name}`);
    let line: LabDocResult;
    try {
      line = { name, release, ...(await runDocument(job, doc, agents)), ms: 0 };
    } catch (err) {
      line = { name, release, results: [], final: [], error: (err as Error).message, ms: 0 };
      await agents.reset();
      await run('rmmod', ['rproc_fake']).catch(() => {});
    }
    clearTimeout(watchdog);
    line.ms = Math.round(performance.now() - start);
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  }
  agents.close();
  if (job.command) await runCommand(job, dirname(jobPath));
  process.exit(0); // pooled agents keep sockets open
}

/** Runs the job's command (protocol.ts `LabCommand`): output to command.log, status to command.json. */
async function runCommand(job: LabJob, outDir: string): Promise<void> {
  const c = job.command as NonNullable<LabJob['command']>;
  const [file = 'node', ...args] = c.argv.map((a) => a.replaceAll('{out}', outDir));
  const log = openSync(join(outDir, 'command.log'), 'w');
  const start = performance.now();
  console.error(`lab-runner: command ${c.argv.join(' ')}`);
  const child = spawn(file === 'node' ? process.execPath : file, args, {
    cwd: c.cwd,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      ...c.env,
      RPROC_LAB_GUEST: '1',
      RPROC_LAB_MODULE: job.module,
      RPROC_LAB_FIRMWARE: job.firmwareDir,
      RPROC_LAB_OUT: outDir,
    },
  });
  const result: LabCommandResult = await new Promise((resolve) => {
    child.on('error', () => resolve({ code: -1, signal: null, ms: 0 }));
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Math.round(performance.now() - start) }));
  });
  writeFileSync(join(outDir, 'command.json'), JSON.stringify(result));
}

await main();
