import type { Db } from 'mongodb';
import { cpuBetween, cpuSample, type CpuSample } from './cpu.ts';
import { ReadyProbe } from './ready-probe.ts';
import type { ServerProcess } from './server-process.ts';
import { fmt, ms, secs } from './stats.ts';
import { walCounters } from './verify.ts';

/** Counters taken when a measured phase starts, and the /readyz probe that runs through it. */
export interface Phase {
  cpu: CpuSample;
  wal: Awaited<ReturnType<typeof walCounters>>;
  probe: ReadyProbe;
  /** Events already in the app's collection: the store gets slower to write (and snapshot) as it grows. */
  storedBefore: number;
}

export async function phaseStart(server: ServerProcess, db: Db): Promise<Phase> {
  const probe = new ReadyProbe(new URL('/readyz', server.url));
  const wal = await walCounters(db);
  const storedBefore = await db.collection('events').estimatedDocumentCount();
  probe.start();
  return { wal, probe, storedBefore, cpu: cpuSample(server.pid) };
}

export interface PhaseReport {
  lines: string[];
  /** CPU used by everything but the server and the load generator, in % of one core. */
  othersCpu: number;
}

/**
 * What bounded a phase, as report lines: CPU of the server, of the load generator and of everything else on
 * the machine; server CPU per unit of work; the store's log (fsyncs shared between batches, snapshots); and
 * how long /readyz waited for the server's event loop.
 */
export async function phaseEnd(server: ServerProcess, db: Db, from: Phase, batches: number, work: [number, string]): Promise<PhaseReport> {
  const to = cpuSample(server.pid);
  const cpu = cpuBetween(from.cpu, to);
  const perUnit = (1000 * (to.serverMs - from.cpu.serverMs)) / work[0];
  const ready = await from.probe.stop();
  const wal = await walCounters(db);
  const records = wal.records - from.wal.records;
  const syncs = wal.syncs - from.wal.syncs;
  const snapshots = wal.snapshots - from.wal.snapshots;
  const lines = [
    `CPU (100% = one core): server ${fmt(cpu.server)}% · load generator ${fmt(cpu.bench)}% · rest of the machine ${fmt(cpu.others)}%${cpu.steal >= 1 ? ` · stolen by the hypervisor ${fmt(cpu.steal)}%` : ''} · server CPU per ${work[1]} ${fmt(perUnit)} µs`,
    `store: ${fmt(from.storedBefore)} events at the start · WAL: ${fmt(records)} records, ${fmt(syncs)} fsyncs (${fmt(batches / syncs, 2)} batches per fsync), ${fmt(snapshots)} snapshots${snapshots > 0 ? ` (last: ${fmt(wal.lastSnapshotBytes / 2 ** 20, 1)} MiB in ${secs(wal.lastSnapshotMs)}, written by the server's own event loop)` : ''} · /readyz while loaded: p50 ${ms(ready.latency.p50)} · p99 ${ms(ready.latency.p99)} · max ${ms(ready.latency.max)}${ready.notReady > 0 ? ` · not ready ${fmt(ready.notReady)}×` : ''}`,
  ];
  return { lines, othersCpu: cpu.others };
}

