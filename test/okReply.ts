// okReply: a test's assertion that a lease-protocol reply succeeded, narrowing it to the op's OkReply.

import type { OkReply, Op, Reply } from '../actors/daemon/protocol.js';

/** `reply` as its op's {@link OkReply}; throws (failing the test) with the errno of an error reply. */
export function okReply<O extends Op>(reply: Reply<O>): OkReply<O> {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}: ${reply.error.message}`);
  return reply;
}
