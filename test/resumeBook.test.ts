// resumeBook: resume tokens bound to the holder's uid, the lease table's integrity, the grace; and the daemon's journal priority prefixes.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLeaseTable, encodeLeaseTable, ResumeBook } from '../supervisors/runtime/resumeBook.js';
import { bin, simDaemonArgs } from './bin.js';
import { until } from './wait.js';

const entry = { lease: 'lease-7', uid: 1000, processor: 'remoteproc0', client: 'audio', ttlMs: null };

/** A book whose saves land in `saved`, and the book a restarted daemon would build from the last one. */
function books(graceMs = 10_000) {
  const saved: string[] = [];
  const first = new ResumeBook({ save: (t) => saved.push(t), graceMs });
  const restart = (unreadable?: (d: string) => void) =>
    new ResumeBook({
      save: (t) => saved.push(t),
      restored: saved.at(-1) ?? '',
      graceMs,
      ...(unreadable ? { onUnreadable: unreadable } : {}),
    });
  return { first, saved, restart };
}

describe('ResumeBook', () => {
  it('should issue an unguessable token per lease, stored only as its hash, and resume it once for its uid', () => {
    const { first, saved, restart } = books();
    const token = first.issue(entry);
    const other = first.issue({ ...entry, lease: 'lease-8' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(other).not.toBe(token);
    first.flush();
    expect(saved.at(-1)).not.toContain(token);
    const next = restart();
    expect(next.firstLeaseId()).toBe(9);
    const wrong = next.take(token, 1001);
    expect(wrong.ok ? null : wrong.error.code).toBe('EPERM');
    const taken = next.take(token, 1000);
    expect(taken.ok && taken.value).toEqual(entry);
    const again = next.take(token, 1000);
    expect(again.ok ? null : again.error.code).toBe('ENOENT');
    const unknown = next.take('x'.repeat(43), 1000);
    expect(unknown.ok ? null : unknown.error.code).toBe('ENOENT');
  });

  it('should keep unresumed leases in the table until the grace ends, then forget them', () => {
    const { first, restart } = books();
    const token = first.issue(entry);
    first.flush();
    const second = restart();
    second.issue({ ...entry, lease: 'lease-9' });
    second.flush();
    // A second restart before anyone resumed: the first lease can still resume.
    const third = restart();
    expect(third.pending.map((e) => e.lease).sort()).toEqual(['lease-7', 'lease-9']);
    third.expire();
    third.flush();
    expect(third.take(token, 1000).ok).toBe(false);
    expect(restart().pending).toEqual([]);
  });

  it('should refuse a torn or foreign table (nothing half-written resumes)', () => {
    const table = encodeLeaseTable([{ ...entry, hash: 'h' }]);
    expect(decodeLeaseTable(table).ok).toBe(true);
    expect(decodeLeaseTable(table.slice(0, -3)).ok).toBe(false);
    expect(decodeLeaseTable('{"leases":[]}').ok).toBe(false);
    const told: string[] = [];
    const b = new ResumeBook({
      save: () => {},
      restored: table.slice(0, -1),
      graceMs: 10,
      onUnreadable: (d) => told.push(d),
    });
    expect(b.pending).toEqual([]);
    expect(told[0]).toMatch(/torn/);
  });
});

describe('daemon logs under the journal', () => {
  it('should prefix each stderr line with its syslog priority when JOURNAL_STREAM is its stderr, and not otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'systemd14-journal-'));
    const run = async (journal: boolean) => {
      const file = join(dir, `err-${journal}`);
      const fd = openSync(file, 'w');
      const st = statSync(file, { bigint: true });
      const { args } = simDaemonArgs(dir, ['--socket', join(dir, `s-${journal}`)]);
      const d = spawn(process.execPath, [bin, ...args], {
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, JOURNAL_STREAM: journal ? `${st.dev}:${st.ino}` : '1:1' },
      });
      closeSync(fd);
      await until(() => /ready/.test(readFileSync(file, 'utf8')), 15000);
      d.kill('SIGTERM');
      await new Promise((r) => d.once('exit', r));
      return readFileSync(file, 'utf8').trim().split('\n');
    };
    const lines = await run(true);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l).toMatch(/^<[346]>(info|warn): /);
    expect(lines.find((l) => l.includes('ready'))).toMatch(/^<6>info: ready/);
    for (const l of await run(false)) expect(l).toMatch(/^(info|warn): /);
  });
});
