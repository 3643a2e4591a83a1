// Floors: imports run one way (docs/design.md), the two rooms stay apart, and machines/ stays pure.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
/** Lowest first: a file may import from its own floor or a lower one. */
const FLOORS = ['machines', 'actors', 'supervisors', 'scenarios', 'inspector', 'cli'] as const;
/** Rooms of the supervisors floor: each may use the shared supervisor (supervisors/*.ts), not the other. */
const ROOMS = ['supervisors/sim', 'supervisors/runtime'] as const;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of every source file on a floor, as repo paths. */
function imports(): Array<{ from: string; to: string; line: number }> {
  return FLOORS.flatMap((floor) =>
    files(join(ROOT, floor)).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((text, i) => {
          const m = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/.exec(text);
          if (!m?.[1]) return [];
          const to = relative(ROOT, resolve(dirname(file), m[1]));
          return [{ from: relative(ROOT, file), to, line: i + 1 }];
        }),
    ),
  );
}

const floorOf = (path: string) => FLOORS.findIndex((f) => path === f || path.startsWith(`${f}/`));
const roomOf = (path: string) => ROOMS.find((r) => path.startsWith(`${r}/`)) ?? null;

describe('floors', () => {
  const all = imports();

  it('should see the imports it checks', () => {
    expect(all.length).toBeGreaterThan(200);
    expect(all.some((i) => i.from.startsWith('cli/') && i.to.startsWith('machines/'))).toBe(true);
  });

  it('should import only from the same floor or a lower one (machines → actors → supervisors → scenarios → inspector → cli)', () => {
    const upward = all
      .filter((i) => floorOf(i.to) > floorOf(i.from))
      .map(
        (i) =>
          `${i.from}:${i.line} imports ${i.to} (${FLOORS[floorOf(i.to)]} is above ${FLOORS[floorOf(i.from)]})`,
      );
    expect(upward).toEqual([]);
  });

  it('should keep the simulation room and the production room apart, and the shared supervisor out of both', () => {
    const crossing = all
      .filter((i) => {
        const from = roomOf(i.from);
        const to = roomOf(i.to);
        if (!to || from === to) return false;
        // The shared supervisor (supervisors/*.ts) serves both rooms and uses neither.
        return floorOf(i.from) === floorOf(i.to) || from !== null;
      })
      .map((i) => `${i.from}:${i.line} imports ${i.to}`);
    expect(crossing).toEqual([]);
  });

  it('should keep machines/ pure: no node:* import, no timer, no clock read', () => {
    const impure = files(join(ROOT, 'machines')).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((text, i) =>
          /from ['"]node:|\bset(Timeout|Interval|Immediate)\(|\bDate\.now\(|performance\.now\(/.test(
            text.replace(/\/\/.*$/, ''),
          )
            ? [`${relative(ROOT, file)}:${i + 1}: ${text.trim()}`]
            : [],
        ),
    );
    expect(impure).toEqual([]);
  });
});
