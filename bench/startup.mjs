#!/usr/bin/env node
// CLI start-up vs bare Node, measured side by side: each round runs every command once,
// in turn, so machine noise hits all of them alike; the medians are compared. Every
// third round also runs each command's --help (the target is for every command).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../dist/cli/program.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const HELP_EVERY_ROUNDS = 3;
const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'fe-webhooks.js');

const commands = {
  bare: [process.execPath, '-e', '0'],
  version: [process.execPath, bin, '--version'],
  generate: [process.execPath, bin, 'generate', 'MessageSent'],
};
const helps = Object.fromEntries(COMMANDS.map(({ name }) => [`${name} --help`, [process.execPath, bin, name, '--help']]));

function timeOnce([cmd, ...args]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = Object.fromEntries([...Object.keys(commands), ...Object.keys(helps)].map((k) => [k, []]));
for (const command of [...Object.values(commands), ...Object.values(helps)]) timeOnce(command); // warm the file cache
for (let i = 0; i < ROUNDS; i++) {
  const round = i % HELP_EVERY_ROUNDS === 0 ? { ...commands, ...helps } : commands;
  for (const [name, command] of Object.entries(round)) samples[name].push(timeOnce(command));
}

const bare = median(samples.bare);
for (const name of ['version', 'generate']) {
  const ms = median(samples[name]);
  console.log(
    `RESULT startup-${name}-vs-bare-node ${(ms / bare).toFixed(2)} median ${ms.toFixed(1)} ms vs node -e 0 ${bare.toFixed(1)} ms ` +
      `(target <= 1.5)`,
  );
}
const [slowest, slowestMs] = Object.keys(helps)
  .map((name) => [name, median(samples[name])])
  .sort((a, b) => b[1] - a[1])[0];
console.log(
  `RESULT startup-slowest-help-vs-bare-node ${(slowestMs / bare).toFixed(2)} ${slowest}: median ${slowestMs.toFixed(1)} ms ` +
    `(${samples[slowest].length} runs) vs node -e 0 ${bare.toFixed(1)} ms; slowest of the ${COMMANDS.length} commands' --help (target ` +
    `<= 1.5)`,
);
