// `rproc-supervisor twin` usage errors, and the twin's file system answering malformed FUSE requests (no mount needed).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as P from '../actors/fuse/fuseProtocol.js';
import { TwinFileSystem } from '../actors/fuse/twinFileSystem.js';
import { KernelTwin } from '../actors/kernel/KernelTwin.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { runCli } from './cliHarness.js';

describe('rproc-supervisor twin: usage', () => {
  it('should require --mount and refuse a bad --kernel with exit 2', async () => {
    const none = runCli(['twin']);
    expect(await none.code).toBe(2);
    const bad = runCli(['twin', '--mount', '/tmp/x', '--kernel', '6.1']);
    expect(await bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kernel 6\.1: expected one of 5\.9, 5\.13, 5\.19/);
  });

  it('should name the JSON path of a bad processors file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-twincli-'));
    writeFileSync(join(dir, 'p.json'), JSON.stringify([{ name: 'm4' }, { name: 'dsp', bootMs: -1 }]));
    const r = runCli(['twin', '--mount', join(dir, 'm'), '--processors', join(dir, 'p.json')]);
    expect(await r.code).toBe(2);
    expect(r.stderr).toMatch(/\[1\]\.bootMs: /);
    writeFileSync(join(dir, 'q.json'), '[{');
    const q = runCli(['twin', '--mount', join(dir, 'm'), '--processors', join(dir, 'q.json')]);
    expect(await q.code).toBe(2);
    expect(q.stderr).toMatch(/invalid JSON/);
  });

  it('should refuse a bad --inspect port or --stately-ws without --inspect, and answer --help', async () => {
    const r = runCli(['twin', '--mount', '/tmp/x', '--inspect=70000']);
    expect(await r.code).toBe(2);
    expect(r.stderr).toMatch(/--inspect=70000: expected a port/);
    const s = runCli(['twin', '--mount', '/tmp/x', '--stately-ws', 'ws://127.0.0.1:1']);
    expect(await s.code).toBe(2);
    expect(s.stderr).toMatch(/--stately-ws needs --inspect/);
    const h = runCli(['twin', '--help']);
    expect(await h.code).toBe(0);
    expect(h.stdout).toMatch(/--mount DIR/);
  });
});

/** A request as the kernel would write it. */
function request(opcode: number, nodeid: number, body: Buffer, unique = 7n): P.FuseRequest {
  return { opcode, unique, nodeid, uid: 0, gid: 0, pid: 1, body };
}
const errorOf = (reply: Buffer) => -reply.readInt32LE(4) || 0;

describe('the twin file system on raw FUSE requests', () => {
  const setup = () => {
    const replies: Buffer[] = [];
    const logs: string[] = [];
    const twin = new KernelTwin({ processors: [{ name: 'm4' }], clock: new VirtualClock() });
    const fs = new TwinFileSystem(
      twin,
      (r) => replies.push(r),
      (m) => logs.push(m),
    );
    return { fs, replies, logs };
  };

  it('should negotiate at most its own minor and refuse kernels older than 7.23', () => {
    const { fs, replies } = setup();
    const init = Buffer.alloc(64);
    init.writeUInt32LE(7, 0);
    init.writeUInt32LE(45, 4);
    fs.handle(request(P.OP.INIT, 0, init));
    expect(fs.protocol).toEqual({ kernel: '7.45', negotiated: `7.${P.FUSE_MINOR}` });
    expect(replies[0]?.readUInt32LE(P.OUT_HEADER + 4)).toBe(P.FUSE_MINOR);
    init.writeUInt32LE(22, 4);
    fs.handle(request(P.OP.INIT, 0, init));
    expect(errorOf(replies[1] as Buffer)).toBe(71); // EPROTO
  });

  it('should answer every opcode with a truncated or empty body without throwing', () => {
    const { fs, replies, logs } = setup();
    const opcodes = [...Object.values(P.OP), 0, 5, 99, 4096];
    for (const op of opcodes)
      for (const node of [0, 1, 2, 17, 22, 9999])
        for (const body of [Buffer.alloc(0), Buffer.alloc(3, 0xff), Buffer.alloc(48, 0xff)])
          expect(() => fs.handle(request(op, node, body))).not.toThrow();
    for (const r of replies) {
      expect(r.readUInt32LE(0)).toBe(r.length);
      expect(r.readInt32LE(4)).toBeLessThanOrEqual(0);
    }
    // Nothing replies to FORGET, BATCH_FORGET or INTERRUPT; everything else gets exactly one reply.
    const silent = 3;
    expect(replies.length).toBe((opcodes.length - silent) * 6 * 3);
    expect(logs).toEqual([]); // validated, not caught
  });

  it('should answer ENOSYS for what it does not implement and ENOENT for unknown names', () => {
    const { fs, replies } = setup();
    fs.handle(request(P.OP.GETXATTR, 1, Buffer.alloc(16)));
    fs.handle(request(P.OP.LOOKUP, 1, Buffer.from('nope\0')));
    fs.handle(request(P.OP.LOOKUP, 1, Buffer.from('class\0')));
    expect(replies.map(errorOf).slice(0, 2)).toEqual([38, 2]);
    expect(errorOf(replies[2] as Buffer)).toBe(0);
    expect(replies[2]?.readBigUInt64LE(P.OUT_HEADER)).toBe(2n);
  });
});
