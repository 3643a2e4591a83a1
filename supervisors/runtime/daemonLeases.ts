// daemonLeases: the daemon's leases across its connections — who holds each, who watches it (`watch`), what they are sent.

import type { PushedEvent } from '../../actors/daemon/protocol.js';
import { fail, ok, type Result } from '../../machines/errno.js';
import type { Lease } from './createSupervisor.js';

/** Sends one pushed event on one connection. */
export type PushTo = (event: PushedEvent) => void;

/**
 * A connection that watches leases: where their events go, and which it watches now — kept by
 * {@link DaemonLeases}, so an ended lease leaves it at once and the set holds live leases only.
 */
export interface Watcher {
  push: PushTo;
  readonly watching: Set<string>;
}

/** A new {@link Watcher} for a connection's pushes. */
export function watcher(push: PushTo): Watcher {
  return { push, watching: new Set() };
}

interface Entry {
  lease: Lease;
  /** The holder's uid (SO_PEERCRED), or null when it could not be read. */
  uid: number | null;
  holder: PushTo;
  watchers: Set<Watcher>;
}

/**
 * Every live lease of a daemon, with its holder's connection and the connections that watch it. A
 * watcher must have the holder's uid (EPERM otherwise, and when either uid is unknown); an unknown lease
 * is ENOENT. The daemon's shutdown tells holders and watchers `lease.lost` (`daemon-gone`).
 */
export class DaemonLeases {
  readonly #all = new Map<string, Entry>();

  /** Records a granted lease of the connection whose pushes go to `holder`. */
  add(lease: Lease, uid: number | null, holder: PushTo): void {
    this.#all.set(lease.id, { lease, uid, holder, watchers: new Set() });
  }

  /** The live lease `id`, if any. */
  get(id: string): Lease | undefined {
    return this.#all.get(id)?.lease;
  }

  /** Sends `event` to the lease's holder and its watchers. */
  push(id: string, event: PushedEvent): void {
    const e = this.#all.get(id);
    if (!e) return;
    e.holder(event);
    for (const w of e.watchers) w.push(event);
  }

  /** Sends `event` to the lease's watchers only. */
  pushWatchers(id: string, event: PushedEvent): void {
    for (const w of this.#all.get(id)?.watchers ?? []) w.push(event);
  }

  /** Forgets an ended lease; its watchers no longer watch it. */
  delete(id: string): void {
    for (const w of this.#all.get(id)?.watchers ?? []) w.watching.delete(id);
    this.#all.delete(id);
  }

  /** Adds `to` as a watcher of lease `id`, for a peer of uid `uid`: the lease, or ENOENT / EPERM. */
  watch(id: string, uid: number | null, to: Watcher): Result<Lease> {
    const e = this.#all.get(id);
    if (!e) return fail('ENOENT', 'watch', `no lease ${id}`);
    if (uid === null || e.uid === null || uid !== e.uid)
      return fail('EPERM', 'watch', `lease ${id} is held by another uid`);
    e.watchers.add(to);
    to.watching.add(id);
    return ok(e.lease);
  }

  /** Stops `to` watching lease `id` (its connection is gone). */
  unwatch(id: string, to: Watcher): void {
    this.#all.get(id)?.watchers.delete(to);
    to.watching.delete(id);
  }

  /** The daemon is going: every holder and watcher is told `lease.lost` (`daemon-gone`); all are forgotten. */
  shutdown(): void {
    for (const [id, e] of this.#all) {
      this.push(id, {
        event: 'lease.lost',
        lease: id,
        processor: e.lease.processor.device,
        reason: 'daemon-gone',
      });
      for (const w of e.watchers) w.watching.delete(id);
    }
    this.#all.clear();
  }
}
