import type { ErrorTable } from './meta';

/** Errors about Keyrite's own bugs (codes INTERNAL_*). */
export const INTERNAL_ERRORS = {
  INTERNAL_ERROR: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Something unexpected went wrong inside Keyrite (reference …). Nothing was lost: the ceremony is saved at its last completed step. Retry; if it happens again, note the reference and restart Keyrite.' },
  INTERNAL_KEK_LENGTH: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'A KEK is … bytes, not ….' },
  INTERNAL_NO_PROGRESS: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'The ceremony made no progress.' },
  INTERNAL_NO_PROVIDE: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Action … cannot take input.' },
  INTERNAL_NO_SHARE: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'The share to show is not in memory.' },
  INTERNAL_SHARE_LAYOUT: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Share payload has the wrong size.' },
  INTERNAL_SIGNOFF: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'A sign-off was asked for in a step state that has none; this is a bug in Keyrite.' },
  INTERNAL_SPLIT_ID: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'A split id is 4 bytes, not ….' },
  INTERNAL_UNREACHABLE: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Unexpected …: ….' },
  INTERNAL_VERIFY_WORKER_MISSING: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: "Keyrite's transcript worker script is missing from its installation, so KEYRITE_VERIFY_WORKERS cannot be honoured. Reinstall Keyrite, or unset KEYRITE_VERIFY_WORKERS to verify on one thread." },
  INTERNAL_PROBE_UNAVAILABLE: { fixedBy: 'developer', retryable: false, endsHsmSession: false, summary: 'Keyrite could not start its PKCS#11 module test process (pkcs11js did not load in the child). Report this with the message.' },
} as const satisfies ErrorTable;
