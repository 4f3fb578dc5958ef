/**
 * The queue benchmark's memory reading inside a gateway (loaded by bench/queue-gateways.ts with
 * `node --expose-gc --import ./bench/queue-gc.ts`; nothing else changes in the gateway). On SIGUSR2 it runs
 * two full garbage collections, reads V8's used heap at once (the live size), and 1.5 s later writes
 * `<QUEUE_GC_DIR>/gc-<pid>.json`: that, VmRSS and V8's other figures, among them how much of the young
 * generation is resident.
 *
 * Why: a gateway's RSS at any moment also holds garbage that V8 has not collected yet, and a young
 * generation (up to 2 x 16 MB) whose size follows the allocation rate, not the sockets. An idle gateway
 * sheds both some seconds later (V8's memory reducer), a gateway that runs the background work (a ticker
 * step every 50 ms, BullMQ, the cart flusher: about 1.5 MB/s of short-lived objects) rarely does. Those
 * swings (20-35 MB) are 1-2 KB per socket at 18,000 sockets, in either direction, depending on when the
 * reading falls. Readings taken right after a full collection compare the same state.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const dir = process.env.QUEUE_GC_DIR;
const gc = (globalThis as { gc?: (o?: object) => void }).gc;
if (dir && gc) {
  process.on('SIGUSR2', () => {
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    // The live heap is read now: by the time of the reading below the gateway has allocated again (heap
    // snapshots taken at readings of 62 and 94 MB held 44 and 47 MB of live objects).
    const liveHeap = v8.getHeapStatistics().used_heap_size;
    // freed pages go back to the system from V8's background threads: read the rest a moment later
    setTimeout(() => {
      const m = process.memoryUsage();
      const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      const heap = v8.getHeapStatistics();
      const status = readFileSync('/proc/self/status', 'utf8');
      const kB = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
      const reading = {
        at: Date.now(),
        rss: m.rss,
        rssAnon: kB('RssAnon'),
        rssFile: kB('RssFile'),
        v8Resident: heap.total_physical_size,
        v8Used: liveHeap,
        v8UsedAtReading: heap.used_heap_size,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        youngCommitted: young?.space_size ?? 0,
        youngResident: young?.physical_space_size ?? 0,
      };
      writeFileSync(`${dir}/gc-${process.pid}.tmp`, JSON.stringify(reading));
      renameSync(`${dir}/gc-${process.pid}.tmp`, `${dir}/gc-${process.pid}.json`);
      // a heap snapshot when the benchmark asks for one (--snapshots): the request file names the output
      const req = `${dir}/snapshot-${process.pid}.req`;
      if (existsSync(req)) {
        v8.writeHeapSnapshot(readFileSync(req, 'utf8'));
        rmSync(req);
      }
    }, 1500);
  });
}
