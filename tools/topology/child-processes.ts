import { spawn } from 'node:child_process';

/** Runs a command to its end; rejects with its last output lines when it fails. */
export function runToCompletion(command: string, args: string[], log?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      const text = chunk.toString().trim();
      output.push(text);
      log?.(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${output.slice(-5).join('\n')}`)),
    );
  });
}
