import { parentPort } from 'node:worker_threads';
import { checkChunk, postedResult, type ChunkJob } from './line-check';

/**
 * Entry point of a transcript worker thread (built as out/cli/transcript-verify-worker.mjs and
 * out/main/transcript-verify-worker.js): checks the range of lines it is given and sends back the
 * result, its row bytes transferred rather than copied.
 */
parentPort?.on('message', (job: ChunkJob) => {
  try {
    const result = postedResult(checkChunk(job));
    parentPort!.postMessage({ ok: true, result }, [result.rows.buffer as ArrayBuffer, result.rowEnds.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
