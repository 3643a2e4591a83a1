// `hold --exec` (as `flock -F`): once the lease is held, hold replaces itself with CMD, the lease's connection inherited.

import type { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { execWithFd } from '../actors/execWithFd.js';
import { socketFd } from '../actors/libc.js';
import { EXIT } from './exitCodes.js';

/** The flags `--exec` cannot honour: each needs a wrapper process that stays. */
export const EXEC_EXCLUDES = ['reconnect', 'on-lost'] as const;

/**
 * Replaces this process with `cmd` through execve: the lease's connection `client` becomes CMD's
 * descriptor (its number in `$RPROC_LEASE_FD`, blocking, not close-on-exec), so no wrapper remains and
 * the lease lives exactly as long as CMD and whatever inherits the descriptor. Returns only when CMD
 * could not be run: 127, after `say`ing why (the lease's connection is closed, so the lease ends).
 */
export function execHeld(client: DaemonClient, cmd: string[], say: (line: string) => void): number {
  const fd = socketFd(client.socket);
  if (fd === null) {
    say('the lease connection has no descriptor (closed by the daemon?)');
    client.close();
    return EXIT.unavailable;
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.RPROC_LEASE_FD = String(fd);
  const r = execWithFd(cmd[0] as string, cmd, env, fd);
  say(`${cmd[0]}: ${r.ok ? 'EIO' : r.error.code}${r.ok ? '' : ` (${r.error.detail})`}`);
  client.close();
  return EXIT.notFound;
}
