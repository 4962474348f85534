// Runs a command and copies its stdout both to our stdout and to the file named by
// TEE_STDOUT_FILE, so a test can check every byte the server wrote to stdout.
// Closing our stdin closes the child's stdin; signals are passed on; the exit code is kept.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
const file = createWriteStream(process.env.TEE_STDOUT_FILE);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.on('data', (chunk) => {
  file.write(chunk);
  process.stdout.write(chunk);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  file.end(() => {
    process.stdout.write('', () => process.exit(code ?? (signal ? 128 : 1)));
  });
});
