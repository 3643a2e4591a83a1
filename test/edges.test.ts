// One error shape at the edges: every parser of outside input fails with errno data, per-field messages in `issues`.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFrame } from '../actors/daemon/protocol.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { parseKernelDocument } from '../actors/kernel/kernelDocument.js';
import { parseProcessors } from '../actors/kernel/processorSchema.js';
import { runKernelDocument } from '../actors/kernel/runKernelDocument.js';
import { readJson } from '../cli/io.js';
import { readProcessorsFile } from '../cli/processorsFile.js';
import type { Result } from '../machines/errno.js';
import { parseScenario } from '../scenarios/scenarioSchema.js';
import { createSupervisor } from '../supervisors/runtime/createSupervisor.js';
import { startDaemon } from '../supervisors/runtime/startDaemon.js';

/** The failure of `r`, checked for the one shape: a code, an op, a one-line detail that joins the issues. */
function failure(r: Result<unknown>) {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected a failure');
  const { error } = r;
  expect(typeof error.code).toBe('string');
  expect(typeof error.op).toBe('string');
  expect(error.detail).toEqual(expect.any(String));
  expect(error.detail).not.toContain('\n');
  if (error.issues) {
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.detail).toBe(error.issues.join('; '));
  }
  return error;
}

const dir = mkdtempSync(join(tmpdir(), 'edges-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('the edges', () => {
  it('should read JSON files to a Result: the read errno, or EINVAL for text that is not JSON', () => {
    const read = (p: string) => readJson((f) => readFileSync(f, 'utf8'), p);
    expect(failure(read(join(dir, 'none.json')))).toEqual({
      code: 'ENOENT',
      op: 'read',
      detail: 'cannot read: ENOENT',
    });
    // An errno outside the ABI's list is EIO, and the detail still names it.
    expect(failure(read(dir))).toEqual({ code: 'EIO', op: 'read', detail: 'cannot read: EISDIR' });
    const bad = failure(read(file('bad.json', '{')));
    expect(bad).toMatchObject({
      code: 'EINVAL',
      op: 'read',
      detail: expect.stringMatching(/^invalid JSON: /),
    });
    expect(read(file('ok.json', '[1]'))).toEqual({ ok: true, value: [1] });
  });

  it('should refuse a malformed scenario with EINVAL and one issue per problem', () => {
    const e = failure(
      parseScenario({
        name: 's',
        horizonMs: 10,
        processors: [{ name: 'm4' }],
        clients: [{ id: 'a', processor: 'dsp' }],
        timeline: [{ at: 20, acquire: 'b' }],
      }),
    );
    expect(e).toMatchObject({ code: 'EINVAL', op: 'scenario' });
    expect(e.issues).toEqual([
      'clients[0].processor: unknown processor "dsp"',
      'timeline[0]: unknown client "b"',
      'timeline[0].at: 20 is past horizonMs 10',
    ]);
    expect(failure(parseScenario({ name: 's' })).issues).toContain(
      'horizonMs: missing field (expected number)',
    );
  });

  it('should refuse a malformed kernel run document the same way', () => {
    const e = failure(
      parseKernelDocument({ processors: [{ name: 'm4' }], ops: [{ op: 'cdev.read', fd: 'z' }] }),
    );
    expect(e).toMatchObject({ code: 'EINVAL', op: 'kernel run' });
    expect(e.issues).toEqual(['ops[0].fd: unknown fd "z" (no earlier cdev.open names it)']);
    expect(failure(parseKernelDocument({ ops: [] })).issues).toEqual([
      'processors: missing field (expected array)',
    ]);
  });

  it('should answer an unchecked document’s unknown processor with ENOENT, not a throw mid-run', () => {
    const run = runKernelDocument(
      {
        processors: [{ name: 'm4' }],
        ops: [
          { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
          { op: 'sysfs.read', rproc: 'gpu', attr: 'state' },
          { op: 'sysfs.read', rproc: 'm4', attr: 'state' },
        ],
      },
      { profile: '5.19' },
    );
    expect(run.results.map((r) => [r.ok, r.errno ?? r.value])).toEqual([
      [true, undefined],
      [false, 'ENOENT'],
      [true, 'running\n'],
    ]);
    run.twin.stop();
  });

  it('should refuse a malformed processors file the same way, and pass on a read failure', () => {
    const e = failure(parseProcessors([{ name: 'm4', bogus: 1 }]));
    expect(e).toMatchObject({ code: 'EINVAL', op: 'processors' });
    expect(e.issues).toEqual([expect.stringMatching(/^\[0\]: .*bogus/)]);
    expect(failure(parseProcessors([])).issues).toEqual([expect.stringMatching(/^\(document\): /)]);
    expect(failure(readProcessorsFile(join(dir, 'none.json')))).toMatchObject({ code: 'ENOENT', op: 'read' });
    expect(readProcessorsFile(file('p.json', '[{"name":"dsp"}]'))).toEqual({
      ok: true,
      value: [{ name: 'dsp' }],
    });
  });

  it('should refuse a protocol frame with EPROTO, keeping the id it could read', () => {
    const json = parseFrame('{"op":');
    expect(failure(json)).toMatchObject({
      code: 'EPROTO',
      op: 'frame',
      detail: expect.stringMatching(/^bad JSON: /),
    });
    const missing = parseFrame('{"v":1,"id":7,"op":"acquire"}');
    expect(failure(missing)).toEqual({
      code: 'EPROTO',
      op: 'frame',
      detail: 'processor: missing field (expected string)',
      issues: ['processor: missing field (expected string)'],
    });
    expect(missing.id).toBe(7);
    expect(parseFrame('{"id":"x","op":"ping"}')).toEqual({ ok: true, value: { id: 'x', op: 'ping' } });
  });

  it('should put a refused frame on the wire exactly as docs/protocol.md shows it', async () => {
    const driver = createSimDriver({ processors: [{ name: 'm4' }] });
    const supervisor = await createSupervisor({ driver });
    const socketPath = join(mkdtempSync(join(tmpdir(), 'edges-d-')), 'd.sock');
    const daemon = await startDaemon({ supervisor, socketPath });
    cleanup.push(async () => {
      await daemon.close();
      await supervisor.close();
    });
    const got = await new Promise<string>((resolve) => {
      const s = createConnection(socketPath);
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        text += d;
      });
      s.on('close', () => resolve(text));
      s.write('{"v":1,"id":7,"op":"acquire"}\n');
    });
    expect(got).toBe(
      '{"v":1,"id":7,"ok":false,"error":{"code":"EPROTO","message":"processor: missing field (expected string)"}}\n',
    );
  });
});
