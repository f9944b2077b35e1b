#!/usr/bin/env node
// Runs every bench/*.mjs (or the ones named) one after another and prints one table of
// the RESULT lines they print. `--markdown FILE` also writes the table for BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const mdIndex = args.indexOf('--markdown');
const markdownFile = mdIndex >= 0 ? args.splice(mdIndex, 2)[1] : undefined;
const wanted = new Set(args);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
  .filter((f) => wanted.size === 0 || wanted.has(f.replace(/\.mjs$/, '')))
  .sort();

const rows = [];
for (const script of scripts) {
  process.stderr.write(`bench: ${script}\n`);
  const output = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      process.stderr.write(chunk);
    });
    child.on('close', (code) => resolve({ text, code }));
  });
  const results = output.text.split('\n').filter((l) => l.startsWith('RESULT '));
  if (output.code !== 0 || results.length === 0) rows.push({ script, name: '(failed)', value: '-', detail: `exit ${output.code}` });
  for (const line of results) {
    const [, name, value, ...detail] = line.split(' ');
    rows.push({ script, name, value, detail: detail.join(' ') });
  }
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ` +
  `${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const table = [
  `Machine: ${machine}`,
  '',
  '| benchmark | result | detail | reproduce |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.value} | ${r.detail} | \`node bench/${r.script}\` |`),
].join('\n');
console.log(table);
if (markdownFile) writeFileSync(markdownFile, `${table}\n`);
