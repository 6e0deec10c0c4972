import path from 'node:path';
import type { UtilityProcess } from 'electron';
import { interpretProbe, type ModuleProbeInfo, type ProbeRunResult } from '../core/hsm/module-probe';

export interface UtilityProcessApi {
  fork(modulePath: string, args: string[], options: { stdio: 'pipe'; serviceName: string }): Pick<UtilityProcess, 'on' | 'kill'> & { stdout: NodeJS.ReadableStream | null };
}

/**
 * The module test in an Electron utility process: a packaged app cannot start itself as plain
 * Node (the RunAsNode fuse is off), and a utility process keeps a crashing library out of main.
 */
export function probeModuleInUtilityProcess(utilityProcess: UtilityProcessApi, modulePath: string, options: { entry?: string; timeoutMs?: number } = {}): Promise<ModuleProbeInfo> {
  const entry = options.entry ?? path.join(__dirname, 'module-probe-child.js');
  return new Promise<ProbeRunResult>((resolve) => {
    const child = utilityProcess.fork(entry, [modulePath], { stdio: 'pipe', serviceName: 'Keyrite PKCS#11 module test' });
    let stdout = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, options.timeoutMs ?? 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < 64 * 1024) stdout += d.toString('utf8');
    });
    child.on('exit', (code: number) => {
      clearTimeout(timer);
      resolve({ stdout, code, signal: null, timedOut });
    });
  }).then((r) => interpretProbe(modulePath, r));
}
