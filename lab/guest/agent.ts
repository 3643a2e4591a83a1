// The lab's process agent: one real guest process per document pid, doing its open/write/ioctl/close.
//
//   node agent.js SOCKET PID [LABELS]   LABELS: JSON {label: fd} of descriptors inherited from a fork
//
// Reads and writes go through Node's fs (the libuv thread pool, so a blocking write does not stop the
// agent); ioctls through koffi. A `fork` starts a child agent that shares this one's open file
// descriptions (libuv's fork + exec with the descriptors mapped to 3, 4, …): the kernel's release runs on
// the last close of a description, whichever process holds it.

import { spawn } from 'node:child_process';
import { close, closeSync, open, openSync, read, write } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ioctlInt, ioctlNullArg } from '../../actors/drivers/ioctl.js';
import type { AgentReply, AgentRequest } from '../protocol.js';

const [socketPath = '', pidArg = '', labelsArg = '{}'] = process.argv.slice(2);
const fds = new Map<string, number>(Object.entries(JSON.parse(labelsArg) as Record<string, number>));
const socket = createConnection(socketPath);
const reply = (r: AgentReply) => socket.write(`${JSON.stringify(r)}\n`);
const failure = (id: number, err: NodeJS.ErrnoException | null): AgentReply =>
  err ? { id, ok: false, errno: err.code ?? 'EIO' } : { id, ok: true };

function handle(req: AgentRequest): void {
  const { id } = req;
  if (req.cmd === 'open') {
    open(req.path, req.write ? 'r+' : 'r', (err, fd) => {
      if (!err) fds.set(req.label, fd);
      reply(failure(id, err));
    });
    return;
  }
  if (req.cmd === 'fork') {
    const labels = [...fds.entries()];
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        socketPath,
        String(req.child),
        JSON.stringify(Object.fromEntries(labels.map(([l], i) => [l, i + 3]))),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', ...labels.map(([, fd]) => fd)] },
    );
    child.on('spawn', () => reply({ id, ok: true, value: child.pid ?? 0 }));
    child.on('error', (err) => reply(failure(id, err)));
    return;
  }
  if (req.cmd === 'closeAll') {
    const all = [...fds.values()];
    fds.clear();
    let left = all.length;
    if (left === 0) reply({ id, ok: true });
    for (const fd of all) close(fd, () => --left === 0 && reply({ id, ok: true }));
    return;
  }
  const fd = fds.get(req.label);
  if (fd === undefined) {
    reply({ id, ok: false, errno: 'EBADF' });
    return;
  }
  switch (req.cmd) {
    case 'write':
      write(fd, Buffer.from(req.value, 'utf8'), (err) => reply(failure(id, err)));
      return;
    case 'read':
      read(fd, Buffer.alloc(64), 0, 64, null, (err) => reply(failure(id, err)));
      return;
    case 'ioctl': {
      const r =
        req.value === undefined && !req.get
          ? ioctlNullArg(fd, req.request)
          : ioctlInt(fd, req.request, req.value ?? 0);
      reply(
        r.ok
          ? { id, ok: true, ...(req.get ? { value: r.value } : {}) }
          : { id, ok: false, errno: r.error.code },
      );
      return;
    }
    case 'close':
      fds.delete(req.label);
      close(fd, (err) => reply(failure(id, err)));
      return;
  }
}

// Warm up before saying hello: loading koffi and the first fs calls take a second under TCG, which
// must not fall inside a document's time.
ioctlInt(-1, 0);
closeSync(openSync('/dev/null', 'r+'));

let buffered = '';
socket.on('connect', () => socket.write(`${JSON.stringify({ hello: Number(pidArg), pid: process.pid })}\n`));
socket.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
    handle(JSON.parse(buffered.slice(0, nl)) as AgentRequest);
    buffered = buffered.slice(nl + 1);
  }
});
// The runner going away ends the agent; a document's end kills it with SIGKILL anyway.
socket.on('close', () => process.exit(0));
