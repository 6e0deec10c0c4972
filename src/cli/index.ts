import { answerFromFastPath } from './fast-path';

// Version and help pages need neither commander nor any command group; everything else loads
// the program (main.ts), which loads only the command group that runs.
if (!answerFromFastPath(process.argv.slice(2))) await import('./main');
