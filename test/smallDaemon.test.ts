// What a daemon, hold and status load (none of the inspector's or the scenarios' modules), and --version.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, simDaemonArgs } from './bin.js';
import { until } from './wait.js';

const killed: Array<() => void> = [];
afterEach(() => {
  for (const k of killed.splice(0)) k();
});

/** A module hook (node --import) that appends the URL of every module loaded to `file`. */
function recordModules(file: string): string {
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(${JSON.stringify(file)}, url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  return `data:text/javascript,${encodeURIComponent(register)}`;
}

/** What only the inspector, compare, explore and the scenarios need. */
const NOT_SERVING = [
  /node_modules\/ws\//,
  /node_modules\/elkjs\//,
  /node_modules\/@statelyai\/inspect\//,
  /\/inspector\//,
  /\/scenarios\//,
  /\/supervisors\/sim\/(?!Strategy\.js)/,
];

describe('a small daemon', () => {
  it('should serve leases without loading ws, elkjs, @statelyai/inspect, the inspector or the scenarios', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-small-'));
    const list = join(dir, 'modules.txt');
    const { socket, args } = simDaemonArgs(dir);
    const d = spawn(process.execPath, ['--import', recordModules(list), bin, ...args], { stdio: 'ignore' });
    killed.push(() => d.kill('SIGKILL'));
    await until(() => existsSync(socket), 15_000, 20);
    // A lease served, through hold: what serving loads is loaded by then.
    const h = spawnSync(
      process.execPath,
      ['--import', recordModules(join(dir, 'hold.txt')), bin, 'hold', 'm4', '--socket', socket, '--', 'true'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(h.status, h.stderr).toBe(0);
    for (const file of [list, join(dir, 'hold.txt')]) {
      const loaded = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      // The hook sees the daemon's own modules: the list is not empty by accident.
      expect(loaded.some((u) => u.endsWith('/cli/main.js'))).toBe(true);
      expect(loaded.filter((u) => NOT_SERVING.some((re) => re.test(u)))).toEqual([]);
    }
    const daemonModules = readFileSync(list, 'utf8');
    expect(daemonModules).toMatch(/\/supervisors\/runtime\/startDaemon\.js/);
  }, 60_000);
});

describe('rproc-supervisor --version', () => {
  it("should print the package's name and version and exit 0", () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`rproc-supervisor ${version}\n`);
    const j = spawnSync(process.execPath, [bin, '--version', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(j.stdout)).toEqual({ name: 'rproc-supervisor', version });
    const bad = spawnSync(process.execPath, [bin, '--version', '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--version takes only --json/);
  });
});
