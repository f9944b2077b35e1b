import { parentPort, workerData } from 'node:worker_threads';
import { chunkChecker, WORKER_READY, type ChunkJob, type ChunkSetup } from './chunk.js';

/** A verify worker thread: checks each job it is sent and posts the result back. */
const check = chunkChecker(workerData as ChunkSetup);
const port = parentPort;
if (!port) throw new Error('verify/worker.js runs only as a worker thread');
port.on('message', (job: ChunkJob) => {
  const result = check(job);
  // Shared memory is shared, not moved; only buffers of their own are transferred.
  const own = [result.report.buffer, result.meta.buffer, result.labels.buffer, result.failures?.buffer].filter(
    (b): b is ArrayBuffer => b instanceof ArrayBuffer,
  );
  port.postMessage(result, own);
});
port.postMessage(WORKER_READY);
