/**
 * The load generator of bench/dns-queries.ts, run in a worker thread: one
 * UDP socket on loopback, queries for `names` in turn, either closed-loop
 * (`window` queries always in flight) or open-loop (`rate` queries per
 * second, whatever the replies do). Every reply's latency is recorded; a
 * query unanswered after 1 s counts as lost.
 */
import { createSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { encode, RECURSION_DESIRED } from 'dns-packet';

export interface LoadSpec {
  port: number;
  names: string[];
  durationMs: number;
  warmupMs: number;
  /** Closed loop: queries in flight. */
  window?: number;
  /** Open loop: queries per second. */
  rate?: number;
}

export interface LoadResult {
  sent: number;
  answered: number;
  lost: number;
  /** Replies by non-zero rcode. */
  errors: Record<number, number>;
  /** Latencies (ms) of replies to queries sent after the warm-up. */
  latencies: number[];
  elapsedMs: number;
}

function run(spec: LoadSpec): Promise<LoadResult> {
  const sock = createSocket('udp4');
  const queries = spec.names.map((name) =>
    encode({ id: 0, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type: 'A' }] }),
  );
  const sentAt = new Float64Array(65536);
  const inFlight = new Uint8Array(65536);
  let nextId = 0;
  let nextName = 0;
  let sent = 0;
  let answered = 0;
  let lost = 0;
  const errors: Record<number, number> = {};
  const latencies: number[] = [];
  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const end = measureFrom + spec.durationMs;
  let measuredSent = 0;

  const send = () => {
    let id = nextId;
    for (let tries = 0; inFlight[id] && tries < 65536; tries++) id = (id + 1) & 0xffff;
    nextId = (id + 1) & 0xffff;
    const q = queries[nextName] ?? queries[0];
    nextName = (nextName + 1) % queries.length;
    if (!q) return;
    q.writeUInt16BE(id, 0);
    const now = performance.now();
    sentAt[id] = now;
    inFlight[id] = 1;
    sent++;
    if (now >= measureFrom) measuredSent++;
    sock.send(q, spec.port, '127.0.0.1');
  };

  return new Promise((resolve) => {
    sock.on('message', (msg) => {
      const now = performance.now();
      const id = msg.readUInt16BE(0);
      if (!inFlight[id]) return;
      inFlight[id] = 0;
      answered++;
      const rcode = msg.readUInt8(3) & 0x0f;
      if (rcode !== 0) errors[rcode] = (errors[rcode] ?? 0) + 1;
      const t = sentAt[id] ?? now;
      if (t >= measureFrom && now <= end) latencies.push(now - t);
      if (spec.window && now < end) send();
    });
    const sweep = setInterval(() => {
      const now = performance.now();
      for (let id = 0; id < 65536; id++) {
        if (inFlight[id] && now - (sentAt[id] ?? now) > 1000) {
          inFlight[id] = 0;
          lost++;
          if (spec.window && now < end) send();
        }
      }
    }, 250);
    const finish = () => {
      clearInterval(sweep);
      sock.close();
      resolve({ sent: measuredSent, answered, lost, errors, latencies, elapsedMs: spec.durationMs });
    };
    sock.bind(0, '127.0.0.1', () => {
      sock.setRecvBufferSize(4 << 20);
      if (spec.window) {
        for (let i = 0; i < spec.window; i++) send();
        setTimeout(() => setTimeout(finish, 100), end - performance.now());
        return;
      }
      // Open loop: catch up to rate × elapsed every millisecond.
      const rate = spec.rate ?? 10_000;
      const tick = () => {
        const now = performance.now();
        if (now >= end) {
          setTimeout(finish, 100);
          return;
        }
        const due = Math.floor(((now - start) * rate) / 1000);
        while (sent < due) send();
        setTimeout(tick, 1);
      };
      tick();
    });
  });
}

if (parentPort) {
  const result = await run(workerData as LoadSpec);
  parentPort.postMessage(result);
}
