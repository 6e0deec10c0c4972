import { answerFromFastPath, directVerifyArgs } from './fast-path';

// Version and help pages need neither commander nor any command group; the plain forms of
// `keyrite verify` run without commander (verify-direct.ts); everything else loads the program
// (main.ts), which loads only the command group that runs.
const args = process.argv.slice(2);
if (!answerFromFastPath(args)) {
  const verify = directVerifyArgs(args);
  if (verify) await (await import('./verify-direct')).verifyDirect(verify.bundle, verify.json);
  else await import('./main');
}
