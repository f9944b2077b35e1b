#!/usr/bin/env node
// Import cycles in src/, part of `npm run lint`. Unlike eslint-plugin-import-x's no-cycle,
// this counts type-only imports and dynamic import() too: a type cycle still ties two
// modules' designs together, and a lazy import() only hides a cycle from start-up.
// Every cycle is printed once (as a strongly connected group of files); exit 1 if any.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// `node scripts/check-cycles.mjs [folder]`: src/ of this checkout unless a folder is given.
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const srcDir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'src');
const files = readdirSync(srcDir, { recursive: true })
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
  .map((name) => path.join(srcDir, name));
const known = new Set(files);

/** The src/ files `file` imports (static, type-only, re-exports and import()). */
function importsOf(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), fileName).replace(/\.js$/, '.ts');
    if (known.has(target)) targets.push(target);
  }
  return targets;
}

const graph = new Map(files.map((file) => [file, importsOf(file)]));

// Tarjan's strongly connected components, iteratively (no recursion limit to worry about).
let counter = 0;
const index = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const cycles = [];
for (const start of files) {
  if (index.has(start)) continue;
  const work = [[start, 0]];
  index.set(start, counter);
  low.set(start, counter++);
  stack.push(start);
  onStack.add(start);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [node, next] = frame;
    const edges = graph.get(node);
    if (next < edges.length) {
      frame[1] += 1;
      const target = edges[next];
      if (!index.has(target)) {
        index.set(target, counter);
        low.set(target, counter++);
        stack.push(target);
        onStack.add(target);
        work.push([target, 0]);
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node), index.get(target)));
      }
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(node)));
    }
    if (low.get(node) === index.get(node)) {
      const group = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || graph.get(node).includes(node)) cycles.push(group);
    }
  }
}

const relative = (file) => path.relative(process.cwd(), file);
for (const group of cycles) {
  const members = new Set(group);
  console.error(`import cycle among ${group.length} files:`);
  for (const file of group.sort()) {
    const inside = graph.get(file).filter((target) => members.has(target));
    console.error(`  ${relative(file)} -> ${inside.map(relative).join(', ')}`);
  }
}
if (cycles.length > 0) {
  const where = relative(srcDir) || '.';
  console.error(`${cycles.length} import cycle(s) in ${where}/ (type-only and import() count): move the shared piece down.`);
  process.exitCode = 1;
}
