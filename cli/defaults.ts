// Defaults the runtime commands share: the socket path.

import { join } from 'node:path';

/** `$XDG_RUNTIME_DIR/rproc-supervisor.sock`, else `/run/rproc-supervisor.sock`. */
export function defaultSocket(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'rproc-supervisor.sock')
    : '/run/rproc-supervisor.sock';
}
