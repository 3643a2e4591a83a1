// bench/memory.mjs: the daemon's RSS (ready, after the soak) next to an idle bare node in the same run, and hold's RSS.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, GC_ON_SIGNAL, rssKiB, simDaemonArgv } from './soak.mjs';
import { round } from './stats.mjs';

/** The goal (issue 14): the daemon's RSS when ready at most this many times an idle bare node's. */
export const DAEMON_RSS_GOAL = 1.5;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`memory: timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The pids whose parent is `pid`. */
function childrenOf(pid) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Measures, in one run: an idle bare `node` (with the same preload as the soak's daemon), a ready
 * `rproc-supervisor daemon --driver sim`, a `hold m4 -- sleep 30` wrapper while it holds, and what
 * `hold --exec` leaves (the command itself); `soak` is the soak's record (its daemon's RSS when ready
 * and after the soak). Returns the benchmark record.
 */
export async function memoryBenchmark(soak) {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-mem-'));
  const procs = [];
  const start = (args, stdio = ['pipe', 'ignore', 'ignore']) => {
    const p = spawn(process.execPath, args, { stdio });
    procs.push(p);
    return p;
  };
  try {
    const bare = start(['--expose-gc', '--import', GC_ON_SIGNAL, '-e', 'setInterval(() => {}, 1e9)']);
    const socket = join(dir, 'd.sock');
    const daemon = start(simDaemonArgv(dir, socket), ['pipe', 'ignore', 'pipe']);
    let log = '';
    daemon.stderr.setEncoding('utf8').on('data', (c) => {
      if (log.length < 4096) log += c;
    });
    await until(() => log.includes('info: ready'), 20_000, 'the daemon');
    await sleep(1000);
    const bareKib = rssKiB(bare.pid);
    const readyKib = rssKiB(daemon.pid);
    // hold, the wrapper: its RSS while CMD (sleep) runs under it.
    const hold = start(
      [BIN, 'hold', 'm4', '--socket', socket, '--', 'sleep', '30'],
      ['ignore', 'ignore', 'ignore'],
    );
    await until(() => childrenOf(hold.pid).length > 0, 20_000, 'hold to run its command');
    await sleep(1000);
    const holdKib = rssKiB(hold.pid);
    // hold --exec: the same pid becomes sleep; what remains is sleep's own RSS.
    const exec = start(
      [BIN, 'hold', '--exec', 'm4', '--socket', socket, '--', 'sleep', '30'],
      ['ignore', 'ignore', 'ignore'],
    );
    await until(
      () => {
        try {
          return readFileSync(`/proc/${exec.pid}/cmdline`, 'utf8').startsWith('sleep\0');
        } catch {
          return false;
        }
      },
      20_000,
      'hold --exec to become sleep',
    );
    const execKib = rssKiB(exec.pid);
    const ratio = readyKib / bareKib;
    const soakReady = soak?.params?.rss_ready_kib ?? null;
    const soakEnd = soak?.params?.rss_end_kib ?? null;
    return {
      name: 'daemon-rss',
      params: {
        bare_node_kib: bareKib,
        daemon_ready_kib: readyKib,
        soak_daemon_ready_kib: soakReady,
        soak_daemon_end_kib: soakEnd,
        after_soak_vs_bare: soakEnd === null ? null : round(soakEnd / bareKib),
        hold_kib: holdKib,
        hold_exec_kib: execKib,
        hold_exec_children: childrenOf(exec.pid).length,
        target: `daemon RSS when ready <= ${DAEMON_RSS_GOAL} x bare node`,
        pass: ratio <= DAEMON_RSS_GOAL,
      },
      median_ms: null,
      ratio: round(ratio),
    };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/memory.mjs`: this benchmark alone (without the soak's figures).
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await memoryBenchmark(null), null, 2));
}
