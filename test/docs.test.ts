// The docs stand alone in the repository: every kernel-semantics citation names a heading of
// docs/kernel-semantics.md, and every link in README.md and docs/*.md resolves to a file inside the repo.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEMANTICS = 'docs/kernel-semantics.md';

/** Directories no citation or link is looked for in: installed and built files, git's own. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);
const CITING_EXTENSIONS = new Set(['.ts', '.js', '.mjs', '.md']);

/**
 * Files in which a bare `§N` is a section of kernel-semantics.md by the file's own convention: abi.md
 * says so at its top, kernel-semantics.md refers to itself, and the conformance tables name their rows.
 */
const BARE_SECTION_FILES = (file: string) =>
  file === 'docs/abi.md' || file === SEMANTICS || file.startsWith('test/conformance/');

/** Every file under the repo with one of `extensions`, as a repo-relative path with `/`. */
function repoFiles(extensions: Set<string>, dir = root): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) found.push(...repoFiles(extensions, join(dir, entry.name)));
    } else if (extensions.has(extname(entry.name))) {
      found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
    }
  }
  return found.sort();
}

/** The 1-based line of `index` in `text`. */
function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** One section a text cites: its number (`5.4`) and the index of its `§`. */
interface Citation {
  section: string;
  index: number;
}

// After "kernel-semantics" (or "kernel-semantics.md"), a run of sections: "§2, §4 and §5", "§1.2–§6",
// and across a line break inside a comment ("kernel-semantics\n * §8.5").
const NAME = /kernel-semantics(?:\.md)?/g;
const NEXT_SECTION = /(?:[\s,;–—-]|and\b|\/\/+|\*|>|#)*§(\d+(?:\.\d+)*)/y;
const ANY_SECTION = /§(\d+(?:\.\d+)*)/g;

/** The sections `text` cites as "kernel-semantics §N"; with `bare`, every `§N` in it. */
function citations(text: string, bare = false): Citation[] {
  const found = new Map<number, string>();
  if (bare) for (const m of text.matchAll(ANY_SECTION)) found.set(m.index, m[1] as string);
  for (const m of text.matchAll(NAME)) {
    NEXT_SECTION.lastIndex = m.index + m[0].length;
    for (let s = NEXT_SECTION.exec(text); s; s = NEXT_SECTION.exec(text)) {
      found.set(s.index + s[0].lastIndexOf('§'), s[1] as string);
    }
  }
  return [...found].sort(([a], [b]) => a - b).map(([index, section]) => ({ index, section }));
}

/** The section numbers of a page's headings: `## 8. …` gives `8`, `### 8.13 …` gives `8.13`. */
function headingSections(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]/gm)) sections.add(m[1] as string);
  return sections;
}

/** GitHub's anchor of a heading: the text as shown, lower case, punctuation dropped, spaces as `-`. */
function slug(heading: string): string {
  const shown = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
  return shown
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings, with GitHub's `-1`, `-2` for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** `markdown` with the contents of fenced code blocks blanked (same length, same lines). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, (block) => block.replace(/[^\n]/g, ' '));
}

/** One link of a Markdown text: its target and the index where it starts. */
interface Link {
  target: string;
  index: number;
}

/** The inline links, images and reference definitions of `markdown`, outside code blocks and spans. */
function links(markdown: string): Link[] {
  const text = withoutFences(markdown).replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length));
  const found: Link[] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ target: m[1] as string, index: m.index });
  }
  for (const m of text.matchAll(/^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:[ \t]+"[^"]*")?[ \t]*$/gm)) {
    found.push({ target: m[1] as string, index: m.index });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** What is wrong with `link` in repo file `file`, or null when it resolves inside the repo. */
function linkProblem(file: string, link: Link): string | null {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto: …: not a file
  if (target.startsWith('/')) return `${target}: an absolute path, not a file of the repository`;
  const [path = '', fragment] = target.split('#');
  const full = path === '' ? join(root, file) : resolve(root, dirname(file), decodeURIComponent(path));
  const inRepo = relative(root, full);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) return `${target}: outside the repository`;
  if (!existsSync(full)) return `${target}: no such file in the repository`;
  if (fragment !== undefined && full.endsWith('.md') && !anchors(readFileSync(full, 'utf8')).has(fragment)) {
    return `${target}: no heading with the anchor #${fragment} in ${inRepo.split(sep).join('/')}`;
  }
  return null;
}

const userDocs = () => ['README.md', ...repoFiles(new Set(['.md']), join(root, 'docs'))];

describe('the extraction this test relies on', () => {
  it('should read runs of sections after kernel-semantics, across comment line breaks, and ranges', () => {
    const text =
      'a (kernel-semantics §2, §4 and §5) b §9\nkernel-semantics.md §1.2–§6\n// kernel-semantics\n * §8.5.';
    expect(citations(text).map((c) => c.section)).toEqual(['2', '4', '5', '1.2', '6', '8.5']);
    expect(citations(text, true).map((c) => c.section)).toEqual(['2', '4', '5', '9', '1.2', '6', '8.5']);
    expect(citations('kernel-semantics §1.2 T8, §3')).toEqual([{ section: '1.2', index: 17 }]);
  });

  it('should number headings and find links outside code', () => {
    expect([...headingSections('## 0. Sources\n### 8.13 Driver removal\n#### not a number\n')]).toEqual([
      '0',
      '8.13',
    ]);
    const md = '[a](docs/x.md) `[b](c)`\n```\n[d](e)\n```\n![i](p.png "t")\n[ref]: ../out.md\n';
    expect(links(md).map((l) => l.target)).toEqual(['docs/x.md', 'p.png', '../out.md']);
    expect(slug('Where the spec and the sources differ')).toBe('where-the-spec-and-the-sources-differ');
    expect(slug('`compare` — the `expect` block')).toBe('compare--the-expect-block');
  });
});

describe('docs', () => {
  it('should resolve every kernel-semantics citation to a heading of docs/kernel-semantics.md', () => {
    const headings = headingSections(readFileSync(join(root, SEMANTICS), 'utf8'));
    expect(headings.has('1.2') && headings.has('10')).toBe(true);
    const offending: string[] = [];
    let checked = 0;
    for (const file of repoFiles(CITING_EXTENSIONS)) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const { section, index } of citations(text, BARE_SECTION_FILES(file))) {
        checked++;
        if (!headings.has(section)) {
          offending.push(`${file}:${lineOf(text, index)}: §${section} is not a heading of ${SEMANTICS}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(offending, offending.join('\n')).toEqual([]);
  });

  it('should link README.md and docs/*.md only to files inside the repository', () => {
    const offending: string[] = [];
    for (const file of userDocs()) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const link of links(text)) {
        const problem = linkProblem(file, link);
        if (problem) offending.push(`${file}:${lineOf(text, link.index)}: ${problem}`);
      }
    }
    expect(offending, offending.join('\n')).toEqual([]);
  });

  it('should name no path outside the repository in README.md and docs/*.md, linked or not', () => {
    const offending: string[] = [];
    for (const file of userDocs()) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/\.\.\/shared\/|\/work\//g)) {
        offending.push(`${file}:${lineOf(text, m.index)}: "${m[0]}" is outside the repository`);
      }
    }
    expect(offending, offending.join('\n')).toEqual([]);
  });

  it('should list every docs/*.md in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const linked = new Set(links(readme).map((l) => l.target.split('#')[0]));
    const missing = repoFiles(new Set(['.md']), join(root, 'docs')).filter((f) => !linked.has(f));
    expect(missing, `README.md links none of: ${missing.join(', ')}`).toEqual([]);
  });
});
