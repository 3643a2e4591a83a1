// Non-root clients, as real processes: --socket-group/--socket-mode on the socket, --allow-gid by supplementary groups, a refused peer reads EACCES.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin } from './bin.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/socketAccess.test.ts (its mounted-twin part)');

const root = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const cannot = !root
  ? 'not root: cannot run clients as other uids and groups'
  : !hasSetpriv
    ? 'no setpriv(1) (util-linux)'
    : null;
if (cannot) console.warn(`test/socketAccess.test.ts: SKIPPED: ${cannot}`);

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A directory other uids can traverse (the test run's own temporary directory is 0700), under /tmp,
 * removed after the test.
 */
function openDir(): string {
  const dir = mkdtempSync('/tmp/rproc-access-');
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

/** `daemon` on the sim driver (or the twin's cdev files) with `extra`, once its socket exists. */
async function daemon(extra: string[], t?: TwinProcess) {
  const dir = openDir();
  const socket = join(dir, 'd.sock');
  let driver: string[];
  if (t) driver = cdevDriverArgs(t);
  else {
    writeFileSync(join(dir, 'p.json'), JSON.stringify([{ name: 'm4', bootMs: 20, stopMs: 10 }]));
    driver = ['--driver', 'sim', '--processors', join(dir, 'p.json')];
  }
  const d = spawn(
    process.execPath,
    [bin, 'daemon', ...driver, '--socket', socket, '--poll-ms', '20', ...extra],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(d);
  let err = '';
  d.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  await until(() => existsSync(socket) && err.includes('ready'), 15_000);
  return { dir, socket, stderr: () => err };
}

/** Runs the command as uid/gid 1000 with supplementary `groups`. */
function as(groups: number[], argv: string[]) {
  return spawnSync(
    'setpriv',
    ['--reuid', '1000', '--regid', '1000', '--groups', groups.join(','), process.execPath, ...argv],
    { encoding: 'utf8', timeout: 15_000 },
  );
}

describe.skipIf(cannot !== null)(
  'the daemon socket for non-root clients (sim driver)',
  { timeout: 60_000 },
  () => {
    it('should set the socket’s group and mode, and admit a peer by a supplementary group', async () => {
      const { socket } = await daemon([
        '--socket-group',
        '4242',
        '--socket-mode',
        '0660',
        '--allow-gid',
        '4242',
      ]);
      const st = statSync(socket);
      expect([st.mode & 0o777, st.gid]).toEqual([0o660, 4242]);
      const r = as([4242], [bin, 'status', '--socket', socket, '--json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(JSON.parse(r.stdout).processors[0]).toMatchObject({ name: 'm4' });
      // Not in the group: the socket's mode keeps it out (connect is EACCES).
      const out = as([4243], [bin, 'status', '--socket', socket]);
      expect(out.status).toBe(69);
      expect(out.stderr).toContain('EACCES');
    });

    it('should take the group by name', async () => {
      const { socket } = await daemon(['--socket-group', 'daemon', '--socket-mode', '640']);
      const st = statSync(socket);
      expect([st.mode & 0o777, st.gid]).toEqual([0o640, 1]);
    });

    it('should let a refused peer read the EACCES reply before the close: hold exits 69 naming it', async () => {
      const { dir, socket, stderr } = await daemon(['--socket-mode', '0666', '--allow-gid', '4242']);
      const h = as([4243], [bin, 'hold', 'm4', '--socket', socket, '--', 'true']);
      expect(h.status).toBe(69);
      expect(h.stderr).toBe('rproc-supervisor hold: m4: EACCES: uid/gid not allowed by this daemon\n');
      // A raw client that writes a request at once and reads to the end: the reply, then EOF (no reset).
      const raw = join(dir, 'raw.mjs');
      writeFileSync(
        raw,
        `import { createConnection } from 'node:net';
const s = createConnection(process.argv[2]);
let got = '';
s.on('connect', () => s.write('{"op":"acquire","id":1,"processor":"m4"}\\n'));
s.on('data', (c) => (got += c));
s.on('error', (e) => { console.log(JSON.stringify({ got, error: e.code })); process.exit(0); });
s.on('end', () => { console.log(JSON.stringify({ got, error: null })); process.exit(0); });
`,
      );
      for (let i = 0; i < 5; i++) {
        const r = as([4243], [raw, socket]);
        expect(JSON.parse(r.stdout)).toEqual({
          got: '{"v":1,"ok":false,"error":{"code":"EACCES","message":"uid/gid not allowed by this daemon"}}\n',
          error: null,
        });
      }
      // spawnSync held this event loop: the daemon's log is read now.
      await until(() => stderr().includes('warn: peer refused by the allow-lists'), 5000);
    });

    it('should refuse a bad --socket-mode or an unknown --socket-group with exit 2', () => {
      const dir = openDir();
      for (const [flag, value, msg] of [
        ['--socket-mode', '999', '--socket-mode 999: expected an octal mode such as 0660'],
        ['--socket-group', 'no-such-group-here', '--socket-group no-such-group-here: no such group'],
      ]) {
        const r = spawnSync(
          process.execPath,
          [
            bin,
            'daemon',
            '--driver',
            'sim',
            '--socket',
            join(dir, 'x.sock'),
            flag as string,
            value as string,
          ],
          { encoding: 'utf8', timeout: 15_000 },
        );
        expect([r.status, r.stderr]).toEqual([2, `rproc-supervisor daemon: ${msg}\n`]);
      }
    });
  },
);

describe.skipIf(cannot !== null || cannotMount !== null)(
  'the daemon socket for non-root clients (mounted twin)',
  { timeout: 60_000 },
  () => {
    it('should admit a peer by a supplementary group to hold m4 on the cdev driver', async () => {
      const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
      twins.push(t);
      const { socket } = await daemon(['--socket-group', '4242', '--allow-gid', '4242'], t);
      const h = as([4242], [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', 'sleep 0.3; echo ok']);
      expect([h.status, h.stdout, h.stderr]).toEqual([0, 'ok\n', '']);
    });
  },
);
