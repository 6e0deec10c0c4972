export { KEY_PURPOSES, KEY_USAGES, SIGNATURE_SCHEMES, type KeyPolicy, type KeyPurpose, type KeyUsage, type PolicyDocument, type PurposePolicy, type SignatureScheme } from './schema';
export { assertPolicy, mergeReports, type PolicyReport, type Violation } from './report';
export { DEFAULT_POLICY_RESOURCE, loadPolicy, parsePolicy } from './load';
export { checkKeyCustody, checkKeyType, checkShareThreshold, checkSignatureAlgorithm, checkUsage, checkValidity, normalizeHash, rotationDue } from './rules';
export type { ParsedKeyType } from '../keys/key-types';
