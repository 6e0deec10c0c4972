import os from 'node:os';
import type { HsmConfig } from '../hsm/config';
import type { TokenSummary } from '../hsm/token';
import { codeIdentity } from './code-identity';

export interface NetworkInterfaceFact {
  name: string;
  addresses: string[];
  internal: boolean;
}

export interface PreflightFacts {
  appVersion: string;
  /** The folder the code manifest is relative to, and the folders in it that were hashed. */
  codeRoot: string;
  codeDirs: string[];
  codeFiles: number;
  /** Root hash: SHA-256 of the sorted sha256sum manifest of every file Keyrite runs from. */
  codeSha256: string;
  codeManifest: Array<{ path: string; sha256: string }>;
  node: string;
  os: { platform: string; release: string; arch: string };
  hostname: string;
  time: string;
  hsm: { module: string; tokenLabel: string; tokenSerial: string; manufacturer: string; model: string; firmware: string; demo: boolean };
  interfaces: NetworkInterfaceFact[];
  /** Non-loopback interfaces that are up: each stops the ceremony unless overridden. */
  exposedInterfaces: string[];
}

export type InterfaceLister = () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * os.networkInterfaces() lists interfaces that have an address, i.e. that are configured up.
 * Loopback is fine on an air-gapped machine; anything else is a way in or out.
 */
export function gatherPreflight(opts: { appVersion: string; hsm: HsmConfig; token: TokenSummary; interfaces?: InterfaceLister; now: Date }): PreflightFacts {
  const raw = (opts.interfaces ?? os.networkInterfaces)();
  const interfaces: NetworkInterfaceFact[] = Object.entries(raw).map(([name, infos]) => ({
    name,
    addresses: (infos ?? []).map((i) => `${i.address}/${i.netmask}`),
    internal: (infos ?? []).every((i) => i.internal),
  }));
  const code = codeIdentity();
  return {
    appVersion: opts.appVersion,
    codeRoot: code.root,
    codeDirs: code.dirs,
    codeFiles: code.files,
    codeSha256: code.sha256,
    codeManifest: code.manifest,
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    hostname: os.hostname(),
    time: opts.now.toISOString(),
    hsm: {
      module: opts.hsm.modulePath,
      tokenLabel: opts.token.label,
      tokenSerial: opts.token.serial,
      manufacturer: opts.token.manufacturer,
      model: opts.token.model,
      firmware: opts.token.firmware,
      demo: opts.hsm.demo,
    },
    interfaces,
    exposedInterfaces: interfaces.filter((i) => !i.internal).map((i) => i.name),
  };
}
