// okReply: a test's assertion that a lease-protocol reply succeeded, narrowing it to the op's OkReply.

import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { OkReply, Op, Reply } from '../actors/daemon/protocol.js';

/** `reply` as its op's {@link OkReply}; throws (failing the test) with the errno of an error reply. */
export function okReply<O extends Op>(reply: Reply<O>): OkReply<O> {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}: ${reply.error.message}`);
  return reply;
}

/**
 * The first processor of a `status` asked on a fresh connection to the daemon at `socket` (what the
 * process tests poll for).
 */
export async function firstProcessor(
  socket: string,
): Promise<OkReply<'status'>['status']['processors'][number] | undefined> {
  const c = await DaemonClient.connect(socket);
  const r = okReply(await c.request({ op: 'status' }));
  c.close();
  return r.status.processors[0];
}
