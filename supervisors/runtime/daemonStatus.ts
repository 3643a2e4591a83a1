// daemonStatus: the daemon's `status` reply, bounded — one processor, or a page of them, each listing a bounded number of leases.

import type { PeerLimits } from '../../actors/daemon/peerLimits.js';
import type { StatusBody } from '../../actors/daemon/protocol.js';
import { findProcessor } from '../../actors/drivers/RprocDriver.js';
import { fail, ok, type Result } from '../../machines/errno.js';

/** What a `status` request may ask: one processor, or the page after a device of at most `limit`. */
export interface StatusQuery {
  processor?: string;
  after?: string;
  limit?: number;
}

type Processor = StatusBody['processors'][number];

function bounded(p: Processor, maxLeases: number): Processor {
  if (p.leases.length <= maxLeases) return p;
  return { ...p, leases: p.leases.slice(0, maxLeases), leasesOmitted: p.leases.length - maxLeases };
}

/**
 * The `status` reply for `q` (docs/protocol.md), cut from the whole `status`: at most
 * `maxStatusProcessors` processors (or the fewer `q.limit` asks), from the one after `q.after`, with
 * `next` when more follow; each lists at most `maxStatusLeases` leases and counts the rest in
 * `leasesOmitted`. `q.processor` asks for that one only (ENODEV when there is none); an `after` that
 * names no processor is EINVAL.
 */
export function statusPage(
  status: StatusBody,
  q: StatusQuery,
  limits: Pick<PeerLimits, 'maxStatusProcessors' | 'maxStatusLeases'>,
): Result<StatusBody> {
  const all = status.processors;
  const maxLeases = limits.maxStatusLeases;
  if (q.processor !== undefined) {
    const found = findProcessor(all, q.processor);
    if (!found.ok) return fail('ENODEV', 'status', `no processor "${q.processor}"`);
    return ok({ ...status, processors: [bounded(found.value as Processor, maxLeases)] });
  }
  let from = 0;
  if (q.after !== undefined) {
    const i = all.findIndex((p) => p.device === q.after);
    if (i < 0) return fail('EINVAL', 'status', `after: no processor "${q.after}"`);
    from = i + 1;
  }
  const limit = Math.min(q.limit ?? limits.maxStatusProcessors, limits.maxStatusProcessors);
  const page = all.slice(from, from + limit);
  const last = page.at(-1);
  return ok({
    ...status,
    processors: page.map((p) => bounded(p, maxLeases)),
    ...(from + page.length < all.length && last ? { next: last.device } : {}),
  });
}
