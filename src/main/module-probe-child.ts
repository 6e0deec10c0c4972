/**
 * Entry of the Electron utility process that test-loads a PKCS#11 module for settings:set
 * (see core/hsm/module-probe.ts). It loads the module, answers one JSON line on stdout and
 * exits; if the library crashes on load, only this process dies.
 */
import { pkcs11js } from '../core/hsm/pkcs11js';
import { probeWithPkcs11js } from '../core/hsm/module-probe';

const modulePath = process.argv[process.argv.length - 1];
process.stdout.write(JSON.stringify(probeWithPkcs11js(pkcs11js as never, modulePath)) + '\n', () => process.exit(0));
