import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { AnswersDriver, driveWithAnswers, type Answers } from '../../src/core/ceremony/answers';
import { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import type { InterfaceLister } from '../../src/core/ceremony/preflight';
import type { HsmConfig } from '../../src/core/hsm/config';
import type { TestHsm } from './softhsm';

/** Only loopback: what an air-gapped workstation shows. */
export const AIR_GAPPED: InterfaceLister = () => ({ lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }] });
export const NETWORKED: InterfaceLister = () => ({
  ...AIR_GAPPED(),
  eth0: [{ address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.0.2.10/24' }],
});

export { TEST_BUILD_CLI } from './cli';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `keyrite-${prefix}-`));
}

export const PEOPLE = [
  { id: 'ada', name: 'Ada Admin', roles: ['admin'] },
  { id: 'otto', name: 'Otto Officer', roles: ['officer'] },
  { id: 'c1', name: 'Cora One', roles: ['custodian'] },
  { id: 'c2', name: 'Carl Two', roles: ['custodian'] },
  { id: 'c3', name: 'Cleo Three', roles: ['custodian'] },
  { id: 'c4', name: 'Cyd Four', roles: ['custodian'] },
  { id: 'c5', name: 'Cass Five', roles: ['custodian'] },
  { id: 'wren', name: 'Wren Witness', roles: ['witness'] },
  { id: 'will', name: 'Will Witness', roles: ['witness'] },
];

export function answersFor(hsm: TestHsm, extra: Partial<Answers> = {}): Answers {
  return {
    participants: PEOPLE,
    pin: hsm.userPin,
    // Root keys are wrap-with-trusted by default: the security officer makes the backup's KEK.
    soPin: hsm.soPin,
    statements: {
      'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' },
      'backups-destroyed': { backups: 'shredded', shares: 'BAG-1..5 burned' },
    },
    ...extra,
  };
}

export async function openService(home: string, hsm: HsmConfig, interfaces: InterfaceLister = AIR_GAPPED): Promise<CeremonyService> {
  return CeremonyService.open({ home, hsm, interfaces });
}

/** Drive a ceremony to its end, capturing the shares shown at hand-out (as a custodian would write them down). */
export async function runToEnd(service: CeremonyService, view: CeremonyView, answers: Answers, shares: string[] = []): Promise<CeremonyView> {
  return driveWithAnswers(view, (input: StepInput) => service.provide(view.ceremonyId, input), new AnswersDriver(answers), {
    onView: (v) => {
      if (v.revealedShare) shares.push(v.revealedShare.words.join(' '));
    },
  });
}

/**
 * A root's subject has no default (only a rehearsal takes the script's demo name): tests on a
 * test token name it, as a real ceremony must.
 */
export const ROOT_SUBJECT = { subject: 'CN=Keyrite Test Root CA, O=Keyrite Tests' } as const;

/** Answer the script with `driver` (which remembers revealed shares) until `stop` holds; every answer must be accepted. */
export async function answerUntil(service: CeremonyService, view: CeremonyView, driver: AnswersDriver, stop: (v: CeremonyView) => boolean): Promise<CeremonyView> {
  let v = view;
  for (let guard = 0; guard < 300 && !stop(v); guard++) {
    const input = driver.next(v);
    if (!input) throw new Error(`no answer for ${v.current?.need.kind}`);
    v = await service.provide(v.ceremonyId, input);
    expect(v.lastError, JSON.stringify(v.lastError)).toBeNull();
  }
  if (!stop(v)) throw new Error('never reached the wanted screen');
  return v;
}
