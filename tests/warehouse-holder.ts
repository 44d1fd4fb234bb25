/**
 * Another process holding a DuckDB file open, as a CLI run would: for tests of what waits for
 * the warehouse (queued runs, canceling while waiting, the lock error).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Opens `file` read-write in a child process and resolves once it is open; `release()` ends the child. */
export async function holdWarehouse(file: string): Promise<{ release(): void }> {
  const script = `import { DuckDBInstance } from '@duckdb/node-api'; await DuckDBInstance.create(${JSON.stringify(file)}); console.log('open'); setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
    holder.on('exit', (code) => reject(new Error(`the process holding ${file} exited with ${code}`)));
  });
  return { release: () => void holder.kill() };
}
