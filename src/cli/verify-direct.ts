import { runVerify } from './commands/verify';
import { fail, stdoutFailed } from './exit';

/**
 * `keyrite verify BUNDLE [--json]` without commander, the other command groups or io.ts: start-up
 * is a large part of a small bundle's verify time. The same work (runVerify), output and exit
 * codes as through main.ts, which also leaves core dumps alone for verify (a sealed bundle is a
 * public record; no secret is ever in memory).
 */
export async function verifyDirect(bundle: string, json: boolean): Promise<void> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => stdoutFailed(e));
  try {
    await runVerify(bundle, { json });
  } catch (e) {
    fail(e);
  }
}
