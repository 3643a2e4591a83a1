// The live inspector's flags of `daemon` and `twin` (--inspect[=PORT], --stately-ws), apart from the inspector so parsing them loads none of it.

/** A port number from the command line, or null when it is not one. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

/** The `--inspect[=PORT]` and `--stately-ws URL` options of `daemon` and `twin`, for {@link commandArgs}. */
export const LIVE_INSPECT_OPTIONS = {
  inspect: { type: 'string' },
  'stately-ws': { type: 'string' },
} as const;

/** `--inspect` alone takes no value (only `--inspect=PORT` does): it means a free port. */
export function inspectWithoutPort(args: string[]): string[] {
  return args.map((a) => (a === '--inspect' ? '--inspect=0' : a));
}

/** The live inspector's port from {@link LIVE_INSPECT_OPTIONS}' values (null: not asked for), or a usage error. */
export function liveInspectPort(values: {
  inspect?: unknown;
  'stately-ws'?: unknown;
}): { ok: true; port: number | null } | { ok: false; message: string } {
  if (values.inspect === undefined) {
    return values['stately-ws'] === undefined
      ? { ok: true, port: null }
      : { ok: false, message: '--stately-ws needs --inspect' };
  }
  const port = parsePort(String(values.inspect));
  if (port === null) return { ok: false, message: `--inspect=${values.inspect}: expected a port, 0…65535` };
  return { ok: true, port };
}
