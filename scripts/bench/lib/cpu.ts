import { readFileSync } from 'node:fs';

/**
 * CPU time of this process, of the server child and of the whole machine, so each phase can say which
 * side was busy and whether something else on the machine (another test run, a build) took cores away.
 * On a 2-core machine a server figure near 100% means its single event loop is the limit.
 */
export interface CpuSample {
  at: number;
  selfMs: number;
  /** NaN where /proc is not available. */
  serverMs: number;
  machine: { busyMs: number; stealMs: number };
}

/** Linux reports CPU times in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICK_MS = 1000 / 100;

function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields are counted after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

function machineCpuMs(): { busyMs: number; stealMs: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return { busyMs: (user! + nice! + system! + irq! + softirq!) * TICK_MS, stealMs: (steal ?? 0) * TICK_MS };
  } catch {
    return { busyMs: NaN, stealMs: NaN };
  }
}

export function cpuSample(serverPid: number): CpuSample {
  const usage = process.cpuUsage();
  return { at: performance.now(), selfMs: (usage.user + usage.system) / 1000, serverMs: processCpuMs(serverPid), machine: machineCpuMs() };
}

/** CPU use between two samples as a share of one core (100% = one core busy throughout). */
export function cpuBetween(from: CpuSample, to: CpuSample): { server: number; bench: number; others: number; steal: number } {
  const share = (ms: number) => (100 * ms) / (to.at - from.at);
  const server = share(to.serverMs - from.serverMs);
  const bench = share(to.selfMs - from.selfMs);
  const machine = share(to.machine.busyMs - from.machine.busyMs);
  return { server, bench, others: Math.max(0, machine - server - bench), steal: share(to.machine.stealMs - from.machine.stealMs) };
}
