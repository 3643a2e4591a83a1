// socketAccessArgs: the daemon's --socket-group and --socket-mode, checked.

import { groupId } from '../actors/daemon/groupId.js';
import { fail, ok, type Result } from '../machines/errno.js';

/** `--socket-group G` (a name or a number) and `--socket-mode MODE` (octal, 0 to 0777) as startDaemon options. */
export function socketAccessArgs(
  group: string | undefined,
  mode: string | undefined,
): Result<{ socketGid?: number; socketMode?: number }> {
  const out: { socketGid?: number; socketMode?: number } = {};
  if (mode !== undefined) {
    if (!/^0?[0-7]{3}$/.test(mode))
      return fail('EINVAL', 'socket-mode', `--socket-mode ${mode}: expected an octal mode such as 0660`);
    out.socketMode = Number.parseInt(mode, 8);
  }
  if (group !== undefined) {
    const gid = groupId(group);
    if (!gid.ok) return fail('EINVAL', 'socket-group', `--socket-group ${gid.error.detail}`);
    out.socketGid = gid.value;
  }
  return ok(out);
}
