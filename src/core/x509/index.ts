// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
export { chooseAlgorithm, policyKeyType, webCryptoAlgorithm, type ProfileHash } from './algorithm';
export { issueCrossCertificate, issueRootCertificate, parseCertificate, resolveValidity, type IssuedCertificate } from './certificate';
export { issueCsr, type CsrOptions } from './csr';
export { colonHex, digestWords, FINGERPRINT_WORD_COUNT, fingerprintFromHex, fingerprintOf, type Fingerprint } from './fingerprint';
export { createHsmSigner, type HsmSigner, type SignatureEvent } from './hsm-crypto';
export { lintAfterSigning, lintBeforeSigning, type CertificatePlan } from './lint';
export { toPem } from './pem';
export { certificatePolicyReport, type KeyPolicy } from './policy-checks';
export { CA_EXTENSIONS, KEY_USAGE_NAMES, loadCertProfile, parseCertProfile, type CertProfile, type ProfileExtensions } from './profile';
export { exportPublicKey, findSigningKey, type ExportedPublicKey } from './public-key';
export { drawSerial, SERIAL_BYTES } from './serial';
export { formatSubject, parseSubject, SUBJECT_ATTRIBUTES, subjectToName } from './subject';
