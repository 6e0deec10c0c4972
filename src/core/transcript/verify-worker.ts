import { parentPort } from 'node:worker_threads';
import { checkChunk, postedResult } from './line-check';
import { takePiece, type WorkerAnswer, type WorkerJob } from './line-pool';

/**
 * Entry point of a transcript worker thread (built as out/cli/transcript-verify-worker.mjs and
 * out/main/transcript-verify-worker.js): takes pieces of the file from the shared counter until
 * none is left, sending back each result as it is checked (its row bytes transferred rather than
 * copied), then says it is done.
 */
parentPort?.on('message', ({ bytes, pieces, next }: WorkerJob) => {
  const answer = (m: WorkerAnswer, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);
  try {
    for (let i = takePiece(next, pieces.length); i !== -1; i = takePiece(next, pieces.length)) {
      const result = postedResult(checkChunk({ bytes, ...pieces[i] }));
      answer({ ok: true, index: i, result }, [result.rows.buffer as ArrayBuffer, result.rowEnds.buffer as ArrayBuffer]);
    }
    answer({ ok: true });
  } catch (e) {
    answer({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
