import { hsmTranscriptSigner } from '../../transcript';
import type { ActionHandler } from '../context';

/**
 * CEREMONY_SEALED is the last event. The runner signs the transcript that ends with it, commits
 * the event with the signature in one transaction, then writes the bundle from the store; a crash
 * after that commit is finished by resume without the HSM and without another event.
 */
export const seal: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Seal the transcript: sign it with the transcript key and write the bundle.',
  async run(ctx) {
    const signer = hsmTranscriptSigner(ctx.session(), ctx.ceremonyId);
    await ctx.seal(signer, {
      steps: ctx.script.steps.length,
      keys: Object.fromEntries(Object.entries(ctx.state.keys).map(([alias, k]) => [alias, { keyId: k.keyId, spkiSha256: k.spkiSha256 }])),
      artifacts: Object.values(ctx.state.artifacts),
      transcriptKey: ctx.state.transcriptKey ?? null,
    });
    return 'done';
  },
};
