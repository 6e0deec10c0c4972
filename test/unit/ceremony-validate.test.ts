import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../src/core/ceremony/actions';
import { resolveParameters } from '../../src/core/ceremony/parameters';
import { ACTIONS, ceremoniesDir, listScripts, loadScript, parseScript } from '../../src/core/ceremony/script';
import { HSM_ACTIONS } from '../../src/core/ceremony/validate/order';
import { quorumShortfalls } from '../../src/core/ceremony/validate/quorum';
import { loadPolicy } from '../../src/core/policy';

/**
 * Boulder-style tables: each script problem with the exact field, line and sentence it is
 * refused with, found when the script is loaded — before check-in, before any HSM call.
 */
const HEAD = `id: t
title: Test
version: 1
description: test script
roles:
  - { id: admin, title: Admin, min: 1, max: 1 }
  - { id: officer, title: Crypto officer, min: 1, max: 2 }
  - { id: custodian, title: Key custodian, min: 2, max: 5 }
  - { id: witness, title: Witness, min: 1, max: 3 }
parameters:
  keyType: { type: keyType, default: ec-p384, purpose: root-signing, description: key }
  threshold: { type: integer, default: 2, min: 2, max: 5, description: shares needed }
  count: { type: integer, default: 3, min: 2, max: 5, description: shares made }
  subject: { type: subject, default: "CN=Test Root", description: subject }
  days: { type: integer, default: 3650, description: days }
  copies: { type: integer, default: 1, description: an integer }
  extra: { type: boolean, default: false, description: a switch }
steps:
`; // steps start on line 19

const S = {
  checkIn: '  - { id: check-in, title: Check-in, say: Hello., action: checkIn, confirm: { admin: 1 } }',
  login: '  - { id: login, title: Login, say: Log in., action: hsmLogin }',
  generate: '  - { id: generate, title: Generate, say: Generate., action: generateKey }',
  backup: '  - { id: backup, title: Backup, say: Back up., action: createBackup }',
  handOut: '  - { id: hand-out, title: Hand out, say: Hand out., action: handOutShares }',
  cert: '  - { id: cert, title: Root certificate, say: Sign., action: issueRootCert }',
  seal: '  - { id: seal, title: Seal, say: Seal., action: seal }',
};
const script = (...steps: string[]): string => HEAD + steps.join('\n') + '\n';
const valid = [S.checkIn, S.login, S.generate, S.backup, S.handOut, S.cert, S.seal];

function problems(text: string): Array<{ line: number | null; field: string; message: string }> {
  try {
    parseScript(text, '/scripts/t.yaml');
  } catch (e) {
    const err = e as { code: string; details: { problems: Array<{ line: number | null; field: string; message: string }> } };
    expect(err.code).toBe('SCRIPT_INVALID');
    return err.details.problems.map((p) => ({ line: p.line, field: p.field, message: p.message }));
  }
  return [];
}

describe('ceremony script validation', () => {
  it('accepts the reference script of this table', () => {
    expect(problems(script(...valid))).toEqual([]);
  });

  it('passes every built-in script in resources/ceremonies', () => {
    const files = ['backup-recovery-drill', 'key-destruction', 'key-rotation', 'root-key-generation', 'share-rotation'];
    expect(listScripts().map((s) => s.id).sort()).toEqual(files);
    for (const id of files) {
      const file = path.join(ceremoniesDir(), `${id}.yaml`);
      expect(problems(readFileSync(file, 'utf8')), id).toEqual([]);
    }
  });

  it.each([
    {
      name: 'a mistyped option (confirmWords: "four")',
      steps: [S.checkIn, S.login, S.generate, S.backup, '  - { id: hand-out, title: Hand out, say: Hand out., action: handOutShares, with: { confirmWords: four } }', S.cert, S.seal],
      expected: [{ line: 23, field: 'steps[4].with.confirmWords', message: 'confirmWords is how many words each custodian re-enters: a whole number from 1 to 24, or \'all\' (given "four")' }],
    },
    {
      name: 'confirmWords out of range',
      steps: [S.checkIn, S.login, S.generate, S.backup, '  - { id: hand-out, title: Hand out, say: Hand out., action: handOutShares, with: { confirmWords: 0 } }', S.cert, S.seal],
      expected: [{ line: 23, field: 'steps[4].with.confirmWords', message: 'confirmWords is at least 1 word (given 0)' }],
    },
    {
      name: 'an unknown option',
      steps: [S.checkIn, S.login, S.generate, S.backup, '  - { id: hand-out, title: Hand out, say: Hand out., action: handOutShares, with: { confirmWord: 4 } }', S.cert, S.seal],
      expected: [{ line: 23, field: 'steps[4].with.confirmWord', message: "handOutShares has no option 'confirmWord' (it takes confirmWords, shareCards)" }],
    },
    {
      name: 'options on an action that takes none',
      steps: [S.checkIn, '  - { id: login, title: Login, say: Log in., action: hsmLogin, with: { token: other } }', S.generate, S.backup, S.handOut, S.cert, S.seal],
      expected: [{ line: 20, field: 'steps[1].with.token', message: "hsmLogin has no option 'token' (it takes no options)" }],
    },
    {
      name: 'a key status that does not exist',
      steps: [...valid.slice(0, 6), '  - { id: status, title: Status, say: Mark it., action: updateKeyStatus, with: { status: retired } }', S.seal],
      expected: [{ line: 25, field: 'steps[6].with.status', message: 'status is a key status: one of active, retiring, archived, destroyed, compromised (given "retired")' }],
    },
    {
      name: "'unchanged' on updateKeyStatus (only a destroyed copy leaves the status as it was)",
      steps: [...valid.slice(0, 6), '  - { id: status, title: Status, say: Mark it., action: updateKeyStatus, with: { status: unchanged } }', S.seal],
      expected: [{ line: 25, field: 'steps[6].with.status', message: 'status is a key status: one of active, retiring, archived, destroyed, compromised (given "unchanged")' }],
    },
    {
      name: 'a destroyKey status that does not exist',
      steps: [...valid.slice(0, 6), '  - { id: destroy, title: Destroy, say: Destroy it., action: destroyKey, with: { status: gone } }', S.seal],
      expected: [{ line: 25, field: 'steps[6].with.status', message: 'status is a key status (one of active, retiring, archived, destroyed, compromised) or \'unchanged\' (given "gone")' }],
    },
    {
      name: 'when: naming an integer parameter (the step would be skipped silently)',
      steps: [S.checkIn, S.login, '  - { id: generate, title: Generate, say: Generate., action: generateKey, when: copies }', S.backup, S.handOut, S.cert, S.seal],
      expected: [
        { line: 21, field: 'steps[2].when', message: "when: names parameter 'copies' of type integer; a step can only depend on a boolean parameter" },
        // …and every step that needs the key says where it would come from.
        { line: 22, field: 'steps[3].action', message: "createBackup needs the ceremony key, which step 'generate' provides only when 'copies' is true; give this step the same when:, or drop it from that step" },
        { line: 24, field: 'steps[5].action', message: "issueRootCert needs the ceremony key, which step 'generate' provides only when 'copies' is true; give this step the same when:, or drop it from that step" },
      ],
    },
    {
      name: 'handOutShares before createBackup',
      steps: [S.checkIn, S.login, S.generate, S.handOut, S.backup, S.cert, S.seal],
      expected: [
        { line: 22, field: 'steps[3].action', message: 'handOutShares needs a backup whose shares are not yet handed out from an earlier step (createBackup or resplitShares); move this step after one' },
        { line: 23, field: 'steps[4].action', message: "the shares of the backup made at step 'backup' are never handed out: add a handOutShares step after it (shares exist only in memory)" },
      ],
    },
    {
      name: 'a script with only seal',
      steps: [S.seal],
      expected: [
        { line: 19, field: 'steps[0].action', message: 'seal needs a crypto officer logged in to the HSM from an earlier step (hsmLogin); move this step after one' },
        { line: 18, field: 'steps', message: 'the script has no checkIn step: participants must check in first' },
      ],
    },
    {
      name: 'an HSM action before the login',
      steps: [S.checkIn, S.generate, S.login, S.backup, S.handOut, S.cert, S.seal],
      expected: [{ line: 20, field: 'steps[1].action', message: 'generateKey needs a crypto officer logged in to the HSM from an earlier step (hsmLogin); move this step after one' }],
    },
    {
      name: 'a step before check-in',
      steps: [S.login, S.checkIn, S.generate, S.backup, S.handOut, S.cert, S.seal],
      expected: [{ line: 19, field: 'steps[0].action', message: 'nothing happens before participants check in: put the checkIn step first' }],
    },
    {
      name: 'two check-ins',
      steps: [S.checkIn, '  - { id: check-in-2, title: Again, say: Again., action: checkIn }', ...valid.slice(1)],
      expected: [{ line: 20, field: 'steps[1].action', message: "participants already checked in at step 'check-in'; a ceremony has one check-in" }],
    },
    {
      name: 'a restore with no shares collected',
      steps: [...valid.slice(0, 6), '  - { id: restore, title: Restore, say: Restore., action: restoreBackup }', S.seal],
      expected: [{ line: 25, field: 'steps[6].action', message: "restoreBackup needs the custodians' shares from an earlier step (collectShares); move this step after one" }],
    },
    {
      name: 'a certificate step whose parameter has the wrong type',
      steps: valid,
      head: (h: string) => h.replace('days: { type: integer, default: 3650', 'days: { type: string, default: "3650"'),
      expected: [{ line: 15, field: 'parameters.days.type', message: "parameter 'days' is used by step 'cert' (issueRootCert) as the validity in days, so its type must be integer, not string" }],
    },
    {
      name: 'seal not last, and a second seal',
      steps: [...valid.slice(0, 5), S.seal, S.cert, '  - { id: seal-2, title: Seal again, say: Seal., action: seal }'],
      expected: [{ line: 18, field: 'steps', message: 'only one step may seal the transcript' }],
    },
    {
      name: 'a login that runs only sometimes',
      steps: [S.checkIn, '  - { id: login, title: Login, say: Log in., action: hsmLogin, when: extra }', ...valid.slice(2)],
      expected: [{ line: 20, field: 'steps[1].when', message: 'a hsmLogin step always runs; remove when:' }],
    },
  ])('refuses $name, naming file, line and field', ({ steps, expected, head }) => {
    const text = head ? head(HEAD) + steps.join('\n') + '\n' : script(...steps);
    expect(problems(text)).toEqual(expected);
  });

  it('reports every problem at once, in the message too', () => {
    const text = script(S.checkIn, S.generate, S.handOut, '  - { id: x, title: X, say: X., action: handOutShares, with: { confirmWords: four, colour: red } }', S.seal);
    try {
      parseScript(text, '/scripts/t.yaml');
      expect.unreachable('accepted');
    } catch (e) {
      const err = e as { message: string; details: { problems: unknown[] } };
      expect(err.details.problems.length).toBeGreaterThanOrEqual(5);
      expect(err.message).toContain("/scripts/t.yaml:22 steps[3].with.colour: handOutShares has no option 'colour'");
      expect(err.message).toContain('/scripts/t.yaml:20 steps[1].action: generateKey needs a crypto officer logged in');
      expect(err.message).toMatch(/^The ceremony script \/scripts\/t\.yaml:22 is invalid at steps\[3\]\.with\.confirmWords: /);
    }
  });

  it('knows which actions need the HSM login exactly as the handlers do', () => {
    for (const action of ACTIONS) expect(HSM_ACTIONS.has(action), action).toBe(HANDLERS[action].requiresLogin || action === 'handOutShares');
  });
});

describe('parameters through the parsers that will use them', () => {
  const { script: root } = loadScript('root-key-generation');
  const policy = loadPolicy();

  it.each([
    ['CN=Example Root, C=Netherlands', "Parameter 'subject' of ceremony 'root-key-generation' is not a distinguished name Keyrite can certify: C must be a two-letter ISO 3166 country code in capitals, not 'Netherlands'. Write it as \"CN=Example Root CA, O=Example, C=NL\"."],
    ['O=Example', "Parameter 'subject' of ceremony 'root-key-generation' is not a distinguished name Keyrite can certify: it has no CN (common name). Write it as \"CN=Example Root CA, O=Example, C=NL\"."],
    ['CN=Root, EMAIL=a@b', "Parameter 'subject' of ceremony 'root-key-generation' is not a distinguished name Keyrite can certify: 'EMAIL' is not an attribute Keyrite accepts (use CN, O, OU, C, ST, L, DC, SERIALNUMBER). Write it as \"CN=Example Root CA, O=Example, C=NL\"."],
  ])('refuses subject %j with the DN parser\'s reason', (subject, message) => {
    expect(() => resolveParameters(root, { subject }, policy)).toThrow(expect.objectContaining({ code: 'CEREMONY_PARAMETER_INVALID', message }));
  });

  it('accepts what the certificate step accepts', () => {
    expect(resolveParameters(root, { subject: 'CN=Example Root, O=Example, C=NL' }, policy).values.subject).toBe('CN=Example Root, O=Example, C=NL');
  });

  it('reports every parameter problem at once, each with its code', () => {
    try {
      resolveParameters(root, { subject: 'C=nl', threshold: 'three', colour: 'red' }, policy);
      expect.unreachable('accepted');
    } catch (e) {
      const err = e as { code: string; message: string; details: { problems: Array<{ code: string; field: string }> } };
      expect(err.code).toBe('CEREMONY_PARAMETER_UNKNOWN');
      expect(err.details.problems.map((p) => [p.code, p.field])).toEqual([
        ['CEREMONY_PARAMETER_UNKNOWN', 'parameters'],
        ['CEREMONY_PARAMETER_INVALID', 'parameters.threshold'],
        ['CEREMONY_PARAMETER_INVALID', 'parameters.subject'],
      ]);
      expect(err.message).toContain('2 more problems');
    }
  });
});

describe('sign-off quorum feasibility at check-in', () => {
  const { script: drill } = loadScript('backup-recovery-drill');
  const person = (id: string, ...roles: string[]) => ({ id, name: id, roles });
  const base = [person('ada', 'admin'), person('otto', 'officer'), person('c1', 'custodian'), person('c2', 'custodian')];

  it.each([
    { name: 'one witness for a drill that needs two', people: [...base, person('wren', 'witness')], params: { destroyDrillCopy: true }, expected: ["the step 'Prove it is the same key' needs 2 witnesses; 1 checked in"] },
    { name: 'two witnesses', people: [...base, person('wren', 'witness'), person('will', 'witness')], params: { destroyDrillCopy: true }, expected: [] },
    {
      name: 'an officer who is also the only witness',
      people: [person('ada', 'admin'), person('otto', 'officer', 'witness'), person('wren', 'witness'), person('c1', 'custodian'), person('c2', 'custodian')],
      params: { destroyDrillCopy: true },
      expected: [],
    },
    {
      name: 'one person holding both roles a step needs separately',
      people: [person('ada', 'admin'), person('otto', 'officer', 'witness'), person('c1', 'custodian'), person('c2', 'custodian'), person('wren', 'witness')],
      params: { destroyDrillCopy: true },
      expected: [],
    },
  ])('$name', ({ people, params, expected }) => {
    expect(quorumShortfalls(drill, 0, people, params).map((s) => s.message)).toEqual(expected);
  });

  it('needs each seat filled by a different person', () => {
    const people = [person('ada', 'admin'), person('otto', 'officer', 'witness'), person('c1', 'custodian'), person('c2', 'custodian')];
    expect(quorumShortfalls(drill, 0, people, { destroyDrillCopy: false }).map((s) => s.message)).toEqual([
      "the step 'Rebuild the KEK and restore the key' needs 1 crypto officer and 1 witness, each a different person; the people checked in hold these roles only together, not as 2 separate people",
      "the step 'Prove it is the same key' needs 2 witnesses; 1 checked in",
    ]);
  });

  it('checks every later step, each shortfall named', () => {
    const { script: destruction } = loadScript('key-destruction');
    const people = [person('ada', 'admin'), person('otto', 'officer'), person('wren', 'witness')];
    expect(quorumShortfalls(destruction, 0, people, {}).map((s) => s.message)).toEqual([
      "the step 'Destroy the key' needs 2 witnesses; 1 checked in",
      "the step 'Backups and share cards destroyed' needs 2 witnesses; 1 checked in",
    ]);
  });

  it('leaves out a step switched off by its when: parameter, and only that one', () => {
    const { script: t } = parseScript(script(...valid.slice(0, 6), '  - { id: extra, title: Extra look, say: Look., when: extra, confirm: { witness: 3, officer: 2 } }', S.seal), '/scripts/t.yaml');
    const people = [person('ada', 'admin'), person('otto', 'officer'), person('c1', 'custodian'), person('c2', 'custodian'), person('c3', 'custodian'), person('wren', 'witness')];
    expect(quorumShortfalls(t, 0, people, { extra: false })).toEqual([]);
    expect(quorumShortfalls(t, 0, people, { extra: true }).map((s) => s.message)).toEqual(["the step 'Extra look' needs 3 witnesses; 1 checked in, and 2 crypto officers; 1 checked in"]);
  });
});
