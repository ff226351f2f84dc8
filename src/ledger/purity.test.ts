// Proves the ledger core stays deterministic: no file under src/ledger (tests aside) reads a
// clock, randomness, the environment, the network or the file system, or imports anything but
// its own modules and node:crypto hashing (STYLE 1).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The platform (src/platform) runs inside the ledger's apply step and is held to the same rules.
const directories = [import.meta.dirname, join(import.meta.dirname, '..', 'platform')];
const sources = directories.flatMap((directory) =>
  readdirSync(directory)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(directory, name)),
);

const forbidden: readonly [RegExp, string][] = [
  [/\bDate\b/, 'Date (wall clock)'],
  [/\bperformance\s*\./, 'performance (clock)'],
  [/Math\.random/, 'Math.random'],
  [/\bprocess\s*\./, 'process (environment)'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'timers'],
  [/randomBytes|randomUUID|getRandomValues/, 'randomness'],
  [/\bawait\b|\basync\b/, 'asynchronous code'],
];

describe('ledger core purity', () => {
  it('has source files to check', () => {
    expect(sources.length).toBeGreaterThan(10);
  });
  for (const path of sources) {
    const name = path.slice(path.lastIndexOf('src/'));
    // index.ts wires the platform to the crypto module; it runs outside the apply step.
    if (name === 'src/platform/index.ts') continue;
    it(`${name} uses no clock, randomness, I/O or async`, () => {
      const text = readFileSync(path, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      for (const [pattern, what] of forbidden) expect(text, `${name} uses ${what}`).not.toMatch(pattern);
      const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((match) => match[1]!);
      for (const source of imports) {
        const allowed =
          source.startsWith('./') || source === '../limits.ts' || source === 'node:crypto' || (name.startsWith('src/platform/') && source.startsWith('../ledger/'));
        expect(allowed, `${name} imports ${source}`).toBe(true);
      }
    });
  }
});
