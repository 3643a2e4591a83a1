// The exit-status table: cli/exitCodes.ts names every status, docs/cli.md lists the same, no command uses a bare number.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../cli/exitCodes.js';

describe('exit statuses', () => {
  it('should be documented in docs/cli.md exactly as cli/exitCodes.ts names them', () => {
    const doc = readFileSync('docs/cli.md', 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(EXIT);
  });

  it('should be returned by name in every command, never as a bare number', () => {
    const offenders: string[] = [];
    for (const file of readdirSync('cli').filter((f) => f.endsWith('.ts') && f !== 'exitCodes.ts')) {
      const text = readFileSync(join('cli', file), 'utf8');
      for (const m of text.matchAll(/(?:return|resolve\(|code:)\s*(\d+)\b/g))
        offenders.push(`${file}: ${m[0]}`);
      if (/\bEX_[A-Z]+\s*=/.test(text)) offenders.push(`${file}: defines its own EX_ constant`);
    }
    expect(offenders).toEqual([]);
  });
});
