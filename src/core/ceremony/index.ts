export * from './types';
export { CeremonyService, APP_VERSION, type ServiceOptions, type StartRequest } from './service';
export { CeremonyRunner } from './runner';
export { listScripts, loadScript, parseScript, type CeremonyScript, type LoadedScript } from './script';
