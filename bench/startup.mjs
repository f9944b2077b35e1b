#!/usr/bin/env node
// CLI start-up vs bare Node, measured side by side: each round runs every command once,
// in turn, so machine noise hits all of them alike; the medians are compared.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'fe-webhooks.js');

const commands = {
  bare: [process.execPath, '-e', '0'],
  version: [process.execPath, bin, '--version'],
  generate: [process.execPath, bin, 'generate', 'MessageSent'],
};

function timeOnce([cmd, ...args]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (const command of Object.values(commands)) timeOnce(command); // warm the file cache
for (let i = 0; i < ROUNDS; i++) for (const [name, command] of Object.entries(commands)) samples[name].push(timeOnce(command));

const bare = median(samples.bare);
for (const name of ['version', 'generate']) {
  const ms = median(samples[name]);
  console.log(`RESULT startup-${name}-vs-bare-node ${(ms / bare).toFixed(2)} median ${ms.toFixed(1)} ms vs node -e 0 ${bare.toFixed(1)} ms (target <= 1.5)`);
}
