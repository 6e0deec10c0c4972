import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_FILES, destroyTranscriptKey, hsmTranscriptSigner, sealBundle, TRANSCRIPT_HTML_FORMAT, verifyBundle } from '../../transcript';
import type { ActionHandler } from '../context';
import { assertOnlyProducedFiles } from '../sealed-files';

/**
 * CEREMONY_SEALED is the last event; the bundle is then written and signed by the transcript key.
 * After a crash between the two, sealing is completed (or, if the files are all there, checked).
 */
export const seal: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Seal the transcript: sign it with the transcript key and write the bundle.',
  async run(ctx) {
    if (!existsSync(path.join(ctx.outDir, BUNDLE_FILES.signature))) await assertOnlyProducedFiles(ctx.outDir, Object.keys(ctx.state.artifacts));
    const events = await ctx.events();
    if (events[events.length - 1]?.type !== 'CEREMONY_SEALED') {
      ctx.emit('CEREMONY_SEALED', {
        events: events.length + 1,
        steps: ctx.script.steps.length,
        keys: Object.fromEntries(Object.entries(ctx.state.keys).map(([alias, k]) => [alias, { keyId: k.keyId, spkiSha256: k.spkiSha256 }])),
        artifacts: Object.values(ctx.state.artifacts),
        transcriptKey: ctx.state.transcriptKey ?? null,
        // Announced inside what is signed: the key that signs this is destroyed once its signature is checked.
        transcriptKeyAfterSeal: 'destroyed',
        // transcript.html is rendered from the chain in this layout; verify re-renders and compares.
        htmlFormat: TRANSCRIPT_HTML_FORMAT,
      });
      await ctx.checkpoint();
    }
    const all = await ctx.events();
    const dir = ctx.outDir;
    let result: { finalHash: string; finalHashWords: string[]; keyFingerprintWords: string[] };
    if (existsSync(path.join(dir, BUNDLE_FILES.signature)) && existsSync(path.join(dir, BUNDLE_FILES.sums))) {
      const report = await verifyBundle(dir);
      result = { finalHash: report.finalHash, finalHashWords: report.finalHashWords, keyFingerprintWords: report.transcriptKeyWords ?? [] };
    } else {
      result = await sealBundle({ dir, events: all, signer: hsmTranscriptSigner(ctx.session(), ctx.ceremonyId) });
    }
    // sealBundle checked the signature outside the HSM; from now on the key could only re-sign a rewritten record.
    destroyTranscriptKey(ctx.session(), ctx.ceremonyId);
    ctx.markSealed({ finalHash: result.finalHash, finalHashWords: result.finalHashWords, keyFingerprintWords: result.keyFingerprintWords, bundle: dir });
    return 'done';
  },
};
