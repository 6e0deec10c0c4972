import type { webcrypto } from 'node:crypto';

// The node tsconfig has no DOM lib; these are Node's own WebCrypto types under the DOM names
// @peculiar/x509's declarations use.
export type Crypto = webcrypto.Crypto;
export type CryptoKey = webcrypto.CryptoKey;
export type Algorithm = webcrypto.Algorithm;
export type AlgorithmIdentifier = webcrypto.AlgorithmIdentifier;
export type BufferSource = webcrypto.BufferSource;
