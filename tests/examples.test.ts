// examples/critical-sections as a user runs it: copied into a project that has wasm-rseq and
// assemblyscript installed, then `npm run build` (no warning from the library's own code), `npm start`
// (the counter exact under injection, the stack checked) and `npm run check`. The README's first
// AssemblyScript snippet is this example's code, so it compiles too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../host/paths.js';

const example = join(packageRoot, 'examples', 'critical-sections');

test("the README's AssemblyScript snippet is examples/critical-sections/assembly/counter.ts's code", () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const snippet = /A critical section of your own[^\n]*\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(snippet, 'the README has the snippet');
  const source = readFileSync(join(example, 'assembly', 'counter.ts'), 'utf8');
  // The example imports more (for its check target); the function is the same text.
  const fn = snippet.slice(snippet.indexOf('export function'));
  assert.ok(source.includes(fn.trim()), `counter.ts has:\n${fn}`);
  for (const name of /import \{([^}]*)\}/.exec(snippet)![1].split(',')) assert.match(source, new RegExp(`\\b${name.trim()}\\b`));
});

test('examples/critical-sections builds, runs and checks as its README says', { timeout: 180_000 }, () => {
  const project = mkdtempSync(join(tmpdir(), 'wasm-rseq-example-'));
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  symlinkSync(packageRoot, join(modules, 'wasm-rseq'));
  symlinkSync(join(packageRoot, 'node_modules', 'assemblyscript'), join(modules, 'assemblyscript'));
  symlinkSync(join(packageRoot, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), join(modules, '.bin', 'asc'));
  // npm install makes the bin executable; tsc's output is not: a shim does the same here.
  writeFileSync(join(modules, '.bin', 'wasm-rseq'), `#!/bin/sh\nexec "${process.execPath}" "${join(packageRoot, 'dist', 'host', 'cli', 'main.js')}" "$@"\n`, { mode: 0o755 });
  const dir = join(project, 'critical-sections');
  cpSync(example, dir, { recursive: true, filter: (f) => !f.includes(`${join('critical-sections', 'build')}`) });
  const env = { ...process.env, PATH: `${join(modules, '.bin')}${delimiter}${process.env.PATH}` };
  const npm = (script: string) => spawnSync('npm', ['run', '--silent', script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });

  const build = npm('build');
  assert.equal(build.status, 0, build.stderr);
  assert.doesNotMatch(build.stdout + build.stderr, /WARNING|ERROR/, 'no warning from the library\'s code');

  const start = npm('start');
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /^counter: 1200000 \(expected 1200000\), \d+ commits, [1-9]\d* aborts/m);
  assert.match(start.stdout, /^stack: no failure in \d+ schedules/m);

  const check = npm('check');
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /no failure in \d+ schedules/);
});
