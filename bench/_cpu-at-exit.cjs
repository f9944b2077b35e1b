// Preloaded (-r) into a benchmarked child: reports the process's own CPU time (user +
// system, start-up included) on stderr as it exits, for CPU-per-request figures.
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  require('node:fs').writeSync(2, `BENCH_CPU_US ${user + system}\n`);
});
