// Real fault tests on the mounted twin: SIGKILL a daemon or a cdev holder, and the kernel's release decides.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../actors/kernel/cdevCommand.js';
import { bin } from './bin.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/twinFaults.test.ts');

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const twins: TwinProcess[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
});

async function twin() {
  const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
  twins.push(t);
  const state = async () => (await readFile(join(t.sysfsRoot, 'remoteproc0', 'state'), 'utf8')).trim();
  return { ...t, state };
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/** A daemon on the mounted twin's files, with a lease held for this test process. */
async function daemonWithLease(t: TwinProcess, args: string[]) {
  const socket = join(t.dir, 'd.sock');
  const d = spawn(
    process.execPath,
    [bin, 'daemon', ...args, '--sysfs-root', t.sysfsRoot, '--socket', socket, '--poll-ms', '20'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(d);
  await until(() => existsSync(socket), 5000);
  const client = await DaemonClient.connect(socket);
  const lease = await client.request({ op: 'acquire', processor: 'm4', client: 'fault-test' });
  expect(lease).toMatchObject({ ok: true, processor: { device: 'remoteproc0' } });
  return { d, client };
}

describe.skipIf(cannotMount)('faults on the mounted twin, with real processes', () => {
  it('should stop the processor through the twin’s release when a cdev (hybrid) daemon is SIGKILLed: fail-safe', async () => {
    const t = await twin();
    const { d, client } = await daemonWithLease(t, ['--driver', 'cdev', '--dev-root', t.devRoot]);
    await until(async () => (await t.state()) === 'running', 3000);
    d.kill('SIGKILL');
    await exited(d);
    // Nobody wrote stop: the kernel closed the daemon's descriptor, FUSE sent RELEASE, the twin shut down.
    await until(async () => (await t.state()) === 'offline', 3000);
    client.close();
  });

  it('should leave the processor running when a sysfs monitor daemon is SIGKILLed: orphan', async () => {
    const t = await twin();
    const { d, client } = await daemonWithLease(t, ['--strategy', 'sysfs-monitor', '--driver', 'sysfs']);
    await until(async () => (await t.state()) === 'running', 3000);
    d.kill('SIGKILL');
    await exited(d);
    await new Promise((r) => setTimeout(r, 500)); // 25 poll intervals, and far longer than any release
    expect(await t.state()).toBe('running');
    client.close();
  });

  it('should keep the processor running while a forked child holds the description, until it exits', async () => {
    const t = await twin();
    // The holder opens the cdev, sets shutdown-on-release, starts, and passes the descriptor to a child
    // as its fd 3 (the same open file description, as fork/exec gives), then waits.
    const script = join(t.dir, 'holder.mjs');
    await writeFile(
      script,
      `import { openSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { ioctlInt } from ${JSON.stringify(join(repo, 'dist', 'actors', 'drivers', 'ioctl.js'))};
const fd = openSync(process.argv[2], 'r+');
const set = ioctlInt(fd, ${RPROC_SET_SHUTDOWN_ON_RELEASE}, 1);
if (!set.ok) { console.error(set.error.code); process.exit(3); }
writeSync(fd, 'start');
const child = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
console.log(child.pid);
setInterval(() => {}, 1000);
`,
    );
    const holder = spawn(process.execPath, [script, join(t.devRoot, 'remoteproc0')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    let out = '';
    holder.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await until(() => out.includes('\n'), 5000);
    const childPid = Number(out.trim());
    expect(await t.state()).toBe('running');
    holder.kill('SIGKILL');
    await exited(holder);
    await new Promise((r) => setTimeout(r, 400));
    expect(await t.state()).toBe('running'); // the child still holds the description: no release yet
    process.kill(childPid, 'SIGKILL');
    await until(async () => (await t.state()) === 'offline', 3000);
  });
});
