import type { ErrorTable } from './meta';

/** Errors about certificates, requests and profiles (codes X509_*, CERT_*). */
export const X509_ERRORS = {
  CERT_LINT_FAILED: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'Request lint failed after signing (rule csr.parse): the request does not parse (…). Nothing was written.' },
  X509_ALGORITHM_MISMATCH: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'A … key cannot sign with …. Use … in the profile.' },
  X509_CERT_INVALID: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The … is not a readable X.509 certificate (…). Give the PEM file exported when that key was certified.' },
  X509_CROSS_SAME_KEY: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Keys \'…\' and \'…\' are the same key; a cross-certificate certifies a new key with an old one.' },
  X509_ISSUER_MISMATCH: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The certificate given for the issuer (subject \'…\') is not for key \'…\': its public key differs. Give the certificate of key \'…\'.' },
  X509_PRIVATE_KEY_MISSING: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'Key \'…\' has no private key on token \'…\'. …' },
  X509_PROFILE_INVALID: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: 'The certificate profile …:<line> is invalid at <field>: <problem>. Fix the file and try again. (every problem is listed with line and field path)' },
  X509_PROFILE_NOT_FOUND: { fixedBy: 'administrator', retryable: false, endsHsmSession: false, summary: '\'…\' is not a certificate profile name. Use root-ca, cross-cert or csr, or give the path of a profile file.' },
  X509_SIGNER_MISUSE: { fixedBy: 'operator', retryable: true, endsHsmSession: false, summary: 'The HSM signer was asked to sign with a key it does not hold. This is a bug in Keyrite; report it.' },
  X509_SUBJECT_INVALID: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The subject \'…\' is not a valid distinguished name: …. Write it as "CN=Example Root CA, O=Example, C=NL".' },
  X509_VALIDITY_INVALID: { fixedBy: 'operator', retryable: false, endsHsmSession: false, summary: 'The validity must be a whole number of days, not ….' },
} as const satisfies ErrorTable;
