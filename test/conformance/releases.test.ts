// Release strings → kernel profiles (docs/abi.md, "Release strings"), stable backports of the 2026 changes included.

import { describe, expect, it } from 'vitest';
import { parseKernel, profileOfRelease } from '../../machines/profile.js';

describe('profileOfRelease', () => {
  it.each([
    ['5.8.18', undefined],
    ['5.9.0', '5.9'],
    ['5.12.19', '5.9'],
    ['5.13.0', '5.13'],
    ['5.15.0-105-generic', '5.13'],
    ['5.18.19', '5.13'],
    ['5.19.0', '5.19'],
    ['6.1.187', '5.19'],
    ['6.1.187-1', '5.19'],
    ['6.1.188', '7.3'],
    ['6.1.192', '7.3'],
    ['6.1.0-41-amd64', '5.19'],
    ['6.6.60', '5.19'],
    ['6.12.109', '5.19'],
    ['6.12.110', '7.3'],
    ['6.12.117-amd64', '7.3'],
    ['7.2.9', '5.19'],
    ['7.3.0-rc2', '7.3'],
    ['8.0.1', '7.3'],
    ['v6.1.190', '7.3'],
    ['6.1', undefined],
    ['linux', undefined],
  ])('should map %s to %s', (release, profile) => {
    expect(profileOfRelease(release)).toBe(profile);
  });

  it('should keep the profile names as they are, before any release mapping', () => {
    for (const p of ['5.9', '5.13', '5.19', '7.3']) expect(parseKernel(p)).toBe(p);
    expect(parseKernel('6.12.117')).toBe('7.3');
    expect(parseKernel('4.19.0')).toBeUndefined();
  });
});
