import { readdirSync, readFileSync } from 'node:fs';

/** The parent of each live process, from /proc (Linux): the stat line's 4th field, after the parenthesised name. */
function parentsByPid(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/** The process and everything it started, parent first. */
export function processTree(pid: number): number[] {
  const parents = parentsByPid();
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child);
  }
  return tree;
}

/**
 * Signals a server and every process it started, as a host losing the server would: Postgres's backends hold the
 * client connections, so freezing only the postmaster would leave open connections answering.
 */
export function signalTree(pid: number, signal: NodeJS.Signals): number[] {
  const tree = processTree(pid);
  for (const member of tree) {
    try {
      process.kill(member, signal);
    } catch {
      // already gone
    }
  }
  return tree;
}

/** A zombie (dead, not yet reaped by its parent, e.g. a container's init) counts as gone: it holds nothing. */
export const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
