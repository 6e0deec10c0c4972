import { TRANSCRIPT_HTML_FORMAT, hsmTranscriptSigner } from '../../transcript';
import type { ActionHandler } from '../context';
import { assertOnlyProducedFiles } from '../sealed-files';

/**
 * CEREMONY_SEALED is the last event. The runner signs the transcript that ends with it, commits
 * the event with the signature in one transaction, destroys the one-time transcript key, then
 * writes the bundle from the store; a crash after that commit is finished by resume without the
 * HSM and without another event.
 */
export const seal: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Seal the transcript: sign it with the transcript key and write the bundle.',
  async run(ctx) {
    // The seal publishes every file in the folder: only the ones this ceremony wrote may be there.
    await assertOnlyProducedFiles(ctx.outDir, Object.keys(ctx.state.artifacts));
    const signer = hsmTranscriptSigner(ctx.session(), ctx.ceremonyId);
    await ctx.seal(signer, {
      steps: ctx.script.steps.length,
      keys: Object.fromEntries(Object.entries(ctx.state.keys).map(([alias, k]) => [alias, { keyId: k.keyId, spkiSha256: k.spkiSha256 }])),
      artifacts: Object.values(ctx.state.artifacts),
      transcriptKey: ctx.state.transcriptKey ?? null,
      // Announced inside what is signed: the key that signs this is destroyed once its signature is checked.
      transcriptKeyAfterSeal: 'destroyed',
      // transcript.html is rendered from the chain in this layout; verify renders it again and compares.
      htmlFormat: TRANSCRIPT_HTML_FORMAT,
    });
    return 'done';
  },
};
