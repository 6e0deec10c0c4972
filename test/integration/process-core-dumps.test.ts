import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { coreLimitIsZero } from '../../src/core/process/core-dumps';
import { tempDir } from '../helpers/ceremony';

/**
 * Core dumps are off for every Keyrite process that can hold a secret. The proof: with core dumps
 * enabled for the test's shell (`ulimit -c unlimited`, and this machine's core_pattern writes a
 * `core` file in the working directory), a plain Node process holding share words and killed by
 * SIGSEGV leaves a core containing the words — and `keyrite share check`, holding the same words,
 * leaves none.
 */
const root = path.resolve('.');
// Words no real share has, so a hit in a core file can only be this test's.
const CANARY = 'zebra canary quilt obsidian marmot lantern';

function spawnHolding(dir: string, command: string): ChildProcess {
  return spawn('bash', ['-c', `ulimit -c unlimited && exec ${command}`], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KEYRITE_HOME: path.join(dir, 'home') } });
}

/** Send the share words (without closing stdin, so the process keeps holding them), then SIGSEGV it. */
async function crashWhileHolding(child: ChildProcess): Promise<{ signal: NodeJS.Signals | null; limits: string }> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdin!.write(`${CANARY}\n`);
  // The words are in the process once it has read them from the pipe, however long a cold start takes.
  await vi.waitFor(() => expect(unreadStdin(child.pid!)).toBe(0), { timeout: 25_000, interval: 25 });
  const limits = readFileSync(`/proc/${child.pid}/limits`, 'utf8');
  process.kill(child.pid!, 'SIGSEGV');
  const signal = await exited;
  expect(stderr).not.toContain('keyrite:');
  return { signal, limits };
}

/**
 * Bytes waiting unread on a process's stdin. Node gives a child a Unix socket as its stdin pipe;
 * `ss` shows that socket's receive queue, found by the inode /proc names for fd 0.
 */
function unreadStdin(pid: number): number {
  const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/0`))?.[1];
  if (!inode) throw new Error(`stdin of ${pid} is not the socket the test spawned it with`);
  const row = execFileSync('ss', ['-xanH'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[5] === inode);
  if (!row) throw new Error(`no socket ${inode} in ss -x`);
  return Number(row[2]);
}

const cores = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('core')).map((f) => path.join(dir, f));

describe('core dumps', () => {
  it('this machine writes a core for a process that crashes holding share words (control)', async () => {
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim()).toMatch(/^core/);
    const dir = tempDir('core-control');
    const child = spawnHolding(dir, `"${process.execPath}" -e "const c=[];process.stdin.on('data',(d)=>c.push(d));setInterval(()=>{},1000)"`);
    const { signal, limits } = await crashWhileHolding(child);
    expect(signal).toBe('SIGSEGV');
    expect(coreLimitIsZero(limits)).toBe(false);
    const found = cores(dir);
    expect(found).toHaveLength(1);
    expect(readFileSync(found[0]).includes(Buffer.from(CANARY))).toBe(true);
    rmSync(dir, { recursive: true, force: true }); // a core is tens of MB holding the canary
  }, 30_000);

  it('keyrite turns them off for itself: a crash while it holds a share leaves no core', async () => {
    const dir = tempDir('core-keyrite');
    const child = spawnHolding(dir, `"${process.execPath}" "${path.join(root, 'bin/keyrite.mjs')}" share check`);
    const { signal, limits } = await crashWhileHolding(child);
    expect(signal).toBe('SIGSEGV');
    expect(coreLimitIsZero(limits)).toBe(true);
    expect(cores(dir)).toEqual([]);
  }, 30_000);
});

describe('coreLimitIsZero', () => {
  const line = (soft: string, hard: string): string => `Max cpu time              unlimited            unlimited            seconds\nMax core file size        ${soft.padEnd(20)} ${hard.padEnd(20)} bytes\n`;
  it.each([
    ['0', '0', true],
    ['0', 'unlimited', false],
    ['unlimited', 'unlimited', false],
    ['4096', '0', false],
  ])('soft %s hard %s → %s', (soft, hard, expected) => {
    expect(coreLimitIsZero(line(soft, hard))).toBe(expected);
  });
  it('is false when the line is missing', () => {
    expect(coreLimitIsZero('Max cpu time unlimited unlimited seconds\n')).toBe(false);
  });
});
