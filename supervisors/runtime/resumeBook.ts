// resumeBook: resume tokens of the daemon's leases, and the lease table it keeps in the service manager's fd store across a restart.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { fail, ok, type Result } from '../../machines/errno.js';

/** What a lease is resumed as: the lease a token was issued for. */
export interface ResumeEntry {
  lease: string;
  /** The holder's uid (SO_PEERCRED): only a peer of the same uid may resume it; null when unknown. */
  uid: number | null;
  /** Its processor's device. */
  processor: string;
  client: string;
  ttlMs: number | null;
  firmware?: string;
}

/** An entry as the table stores it: the token's SHA-256, never the token. */
interface Stored extends ResumeEntry {
  hash: string;
}

/** The table's first line: its format and the SHA-256 of the JSON body after it. */
const MAGIC = 'rproc-supervisor-leases 1';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** The lease table as bytes: a header line with the body's hash, then the JSON body. */
export function encodeLeaseTable(entries: readonly Stored[]): string {
  const body = JSON.stringify({ leases: entries });
  return `${MAGIC} ${createHash('sha256').update(body).digest('hex')}\n${body}`;
}

/**
 * The entries of a lease table written by {@link encodeLeaseTable}; EINVAL for anything else (a torn
 * write by a daemon killed mid-write: its hash does not match), so nothing half-written is resumed.
 */
export function decodeLeaseTable(text: string): Result<Stored[]> {
  const nl = text.indexOf('\n');
  const head = nl < 0 ? text : text.slice(0, nl);
  const body = nl < 0 ? '' : text.slice(nl + 1);
  if (!head.startsWith(`${MAGIC} `)) return fail('EINVAL', 'lease-table', 'not a lease table');
  if (createHash('sha256').update(body).digest('hex') !== head.slice(MAGIC.length + 1))
    return fail('EINVAL', 'lease-table', 'the table is torn (its hash does not match)');
  try {
    const parsed = JSON.parse(body) as { leases?: unknown };
    if (!Array.isArray(parsed.leases)) return fail('EINVAL', 'lease-table', 'no leases array');
    const entries = parsed.leases.filter(
      (e): e is Stored =>
        !!e &&
        typeof e === 'object' &&
        typeof e.lease === 'string' &&
        typeof e.hash === 'string' &&
        typeof e.processor === 'string' &&
        typeof e.client === 'string' &&
        (e.uid === null || Number.isInteger(e.uid)) &&
        (e.ttlMs === null || Number.isInteger(e.ttlMs)),
    );
    return ok(entries);
  } catch (err) {
    return fail('EINVAL', 'lease-table', (err as Error).message);
  }
}

/** Options of {@link ResumeBook}. */
export interface ResumeBookOptions {
  /** Writes the table (batched: once per turn of the event loop at most). */
  save: (table: string) => void;
  /** The previous incarnation's table, if the service manager handed one back. */
  restored?: string;
  /** How long the restored leases may be resumed. */
  graceMs: number;
  /** Told when the restored table cannot be read (torn, foreign). */
  onUnreadable?: (detail: string) => void;
}

/**
 * The resume tokens of one daemon: a token per lease (32 random bytes, base64url), bound to the
 * holder's uid; the table of live leases (with the restored ones not yet resumed) saved on every
 * change; and the previous incarnation's leases, resumable for `graceMs`.
 */
export class ResumeBook {
  #live = new Map<string, Stored>();
  #restored = new Map<string, Stored>();
  #dirty = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ResumeBookOptions) {
    if (options.restored !== undefined && options.restored.length > 0) {
      const r = decodeLeaseTable(options.restored);
      if (!r.ok) options.onUnreadable?.(r.error.detail ?? r.error.code);
      else for (const e of r.value) this.#restored.set(e.hash, e);
    }
    if (this.#restored.size > 0) {
      this.#timer = setTimeout(() => this.expire(), options.graceMs);
      this.#timer.unref();
    }
  }

  /** Restored leases not resumed yet. */
  get pending(): readonly ResumeEntry[] {
    return [...this.#restored.values()];
  }

  /** The first `lease-N` number no restored lease uses (new leases never take a resumable id). */
  firstLeaseId(): number {
    let n = 1;
    for (const e of this.#restored.values()) {
      const m = /^lease-(\d+)$/.exec(e.lease);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  }

  /** A new token for a granted lease. */
  issue(entry: ResumeEntry): string {
    const token = randomBytes(32).toString('base64url');
    this.#live.set(entry.lease, { ...entry, hash: hashOf(token) });
    this.#changed();
    return token;
  }

  /**
   * Takes the restored lease of `token` for a peer of `uid`: ENOENT for no such token (unknown, already
   * resumed, or past the grace), EPERM for another uid's. The entry is then the caller's to acquire.
   */
  take(token: string, uid: number | null): Result<ResumeEntry> {
    const hash = hashOf(token);
    const e = this.#restored.get(hash);
    // Compared in constant time, though a lookup by hash already leaks nothing of the token.
    if (!e || !timingSafeEqual(Buffer.from(e.hash), Buffer.from(hash)))
      return fail(
        'ENOENT',
        'resume',
        'no lease to resume with this token (unknown, resumed, or past the grace)',
      );
    if (e.uid !== null && e.uid !== uid)
      return fail('EPERM', 'resume', `the lease ${e.lease} was held by another uid`);
    this.#restored.delete(hash);
    this.#changed();
    const { hash: _h, ...entry } = e;
    return ok(entry);
  }

  /** A resumed lease keeps its token: it is live again (as `lease`, its id if it got it back). */
  resumed(entry: ResumeEntry, token: string): void {
    this.#live.set(entry.lease, { ...entry, hash: hashOf(token) });
    this.#changed();
  }

  /** A lease ended: its token is void. */
  end(lease: string): void {
    if (this.#live.delete(lease)) this.#changed();
  }

  /** The grace is over: restored leases nobody resumed are dropped. */
  expire(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#restored.size === 0) return;
    this.#restored.clear();
    this.#changed();
  }

  /** Writes the table now if it changed (before a handover to the service manager). */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.options.save(encodeLeaseTable([...this.#live.values(), ...this.#restored.values()]));
  }

  /** Stops the grace timer; saves nothing more. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirty = false;
  }

  #changed(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    setImmediate(() => this.flush());
  }
}
