#!/usr/bin/env python3
"""Drive an interactive program through a real pseudo-terminal, as a person at a keyboard would.

usage: pty-driver.py RULES.json -- command args...
RULES.json: [[regex, reply], ...], answered in order: once the output received since the last
reply matches the next regex, its reply is typed. "{asked}" in a reply is the word of the share
last shown on screen ("  7. word") whose number the active prompt asks for ("? … enter word 7");
"{decrypted}" is that word of the sealed share file last named on screen, opened with plain
`gpg --decrypt` (GNUPGHOME from the environment), as the custodian's own device would. "\\r" is
Enter. "{pause}" waits half a second, reading what the program prints (its echo of what was typed
so far reaches the screen, as it does for a person); "{signal:TERM}" sends that signal to the
program instead of typing (a `kill`, a closed terminal: "{signal:HUP}"). PTY_COLUMNS and PTY_ROWS set the terminal's size (default: none, read as 80 columns).
Everything the program printed is written to stdout at the end; exit status is the program's.
"""
import json, os, pty, re, select, signal, subprocess, sys, termios, time

rules = [(re.compile(r, re.S), reply) for r, reply in json.load(open(sys.argv[1]))]
cmd = sys.argv[sys.argv.index('--') + 1:]
pid, fd = pty.fork()
if pid == 0:
    # PTY_COLUMNS / PTY_ROWS: the terminal's size (a 40-column terminal), set before the program starts.
    if os.environ.get('PTY_COLUMNS'):
        import fcntl, struct
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', int(os.environ.get('PTY_ROWS', '24')), int(os.environ['PTY_COLUMNS']), 0, 0))
    os.execvp(cmd[0], cmd)

def reading_keys(fd):
    # A prompt reads key by key: the terminal is in raw mode (no ICANON) while it waits.
    return not (termios.tcgetattr(fd)[3] & termios.ICANON)


def wait_for_prompt(fd, limit=3.0):
    """Wait until the program reads keys, so a reply is not typed into a line it is not reading yet.
    Returns what it printed meanwhile. A reply meant for no prompt (Ctrl-C between prompts) is typed
    after `limit` seconds."""
    out = b''
    until = time.time() + limit
    while not reading_keys(fd) and time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.01)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


seen, pending, words, step, awaiting = b'', b'', [], 0, False
deadline = time.time() + float(os.environ.get("PTY_DRIVER_TIMEOUT", "100"))
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        pending += chunk
        text = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', pending.decode('utf8', 'replace'))
        if awaiting:
            # The prompt just answered keeps re-drawing until it shows its '✔' (accepted) or a
            # '> reason' line under it (refused by its own check, asked again); only what comes
            # after that is new.
            refused = list(re.finditer(r'^> \S[^\n]*\n?', text, re.M))
            if '✔' not in text and not refused:
                continue
            text = text[text.rindex('✔'):] if '✔' in text else text[refused[-1].start():]
            pending = text.encode()
            awaiting = False
        shown = re.findall(r'(?<!\w)(\d+)\. ([a-z]{3,8})\b', text)
        if len(shown) >= 12:
            words = [w for _, w in sorted((int(n), w) for n, w in shown)]
        if step < len(rules) and rules[step][0].search(text):
            seen += wait_for_prompt(fd)
            reply = rules[step][1]
            if '{asked}' in reply:
                n = int(re.findall(r'\?\s[^\n]*enter word (\d+)', text)[-1])
                reply = reply.replace('{asked}', words[n - 1])
            if '{decrypted}' in reply:
                # The custodian's own device: plain gpg (GNUPGHOME from the environment) opens the
                # sealed file named on screen; the word asked for is taken from its last line.
                allseen = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', seen.decode('utf8', 'replace'))
                sealed = re.findall(r'Sealed share for [^:\n]+: (\S+)', allseen)[-1]
                opened = subprocess.run(['gpg', '--batch', '--decrypt', sealed], capture_output=True, text=True, check=True).stdout
                n = int(re.findall(r'\?\s[^\n]*enter word (\d+)', text)[-1])
                reply = reply.replace('{decrypted}', opened.strip().split('\n')[-1].split()[n - 1])
            for part in re.split(r'(\{pause\}|\{signal:[A-Z]+\})', reply):
                if part == '{pause}':
                    until = time.time() + 0.5
                    while time.time() < until:
                        if select.select([fd], [], [], 0.05)[0]:
                            try:
                                seen += os.read(fd, 65536)
                            except OSError:
                                break
                elif part.startswith('{signal:'):
                    os.kill(pid, getattr(signal, 'SIG' + part[len('{signal:'):-1]))
                elif part:
                    os.write(fd, part.encode())
            pending = b''
            awaiting = True
            step += 1
    else:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
else:
    os.kill(pid, 9)

try:
    _, status = os.waitpid(pid, 0)
except ChildProcessError:
    status = 0
sys.stdout.write(seen.decode('utf8', 'replace'))
sys.stderr.write(f'pty-driver: answered {step} of {len(rules)} prompts\n')
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
