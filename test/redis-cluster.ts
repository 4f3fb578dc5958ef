import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A local Redis Cluster of a test's own: 3 masters and 3 replicas (`redis-server --cluster-enabled yes`),
 * each with its own port and data dir under one temp dir, created with `redis-cli --cluster create` and
 * removed by `cleanup`. AOF is on with `appendfsync always`, as the engine's own Redis runs.
 */
export interface RedisClusterNode {
  port: number;
  dir: string;
  process: ChildProcess | undefined;
}

export interface LocalRedisCluster {
  nodes: RedisClusterNode[];
  /** "127.0.0.1:p1,127.0.0.1:p2,..." as REDIS_CLUSTER_NODES takes it. */
  nodesSetting: string;
  /** Runs redis-cli against one node and returns its output. */
  cli: (port: number, ...args: string[]) => string;
  /** The ports of the current masters. */
  masters: () => number[];
  /** kill -9 of one node. */
  kill: (port: number) => void;
  /** Starts a killed node again (it rejoins as a replica of whoever took its slots). */
  restart: (port: number) => Promise<void>;
  cleanup: () => Promise<void>;
}

/** A run of `count` ports whose cluster bus ports (port + 10000) are also free. */
async function freePorts(count: number): Promise<number[]> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30000 + Math.floor(Math.random() * 4000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [isFree(p), isFree(p + 10000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free ports for a local Redis Cluster');
}

function startNode(node: RedisClusterNode): Promise<void> {
  const args = [
    '--port', String(node.port), '--bind', '127.0.0.1', '--dir', node.dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no', '--logfile', join(node.dir, 'redis.log'),
  ];
  node.process = spawn('redis-server', args, { stdio: 'ignore' });
  return waitFor(() => ping(node.port), `redis-server on ${node.port}`);
}

function ping(port: number): boolean {
  return spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const base = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const ports = await freePorts(6);
  const nodes: RedisClusterNode[] = [];
  for (const port of ports) {
    const dir = join(base, String(port));
    spawnSync('mkdir', ['-p', dir]);
    nodes.push({ port, dir, process: undefined });
  }
  const cli = (port: number, ...args: string[]) => {
    const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const cleanup = async () => {
    for (const n of nodes) n.process?.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map(startNode));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create: ${create.stdout}${create.stderr}`);
    await waitFor(() => nodes.every((n) => cli(n.port, 'cluster', 'info').includes('cluster_state:ok')), 'cluster_state:ok on every node');
    const killed = new Set<number>();
    const cluster: LocalRedisCluster = {
      nodes,
      nodesSetting: ports.map((p) => `127.0.0.1:${p}`).join(','),
      cli,
      masters: () => {
        const alive = nodes.find((n) => !killed.has(n.port))!;
        return cli(alive.port, 'cluster', 'nodes')
          .split('\n')
          .filter((l) => /\bmaster\b/.test(l) && !/\bfail/.test(l) && /\s\d+-\d+/.test(l))
          .map((l) => Number(/:(\d+)@/.exec(l)![1]));
      },
      kill: (port) => {
        const n = nodes.find((x) => x.port === port)!;
        killed.add(port);
        n.process?.kill('SIGKILL');
      },
      restart: async (port) => {
        const n = nodes.find((x) => x.port === port)!;
        await startNode(n);
        killed.delete(port);
      },
      cleanup,
    };
    // every replica has finished its first sync (a replica that never synced refuses to take over)
    await waitFor(() => {
      const masters = cluster.masters();
      const replicas = ports.filter((p) => !masters.includes(p));
      return masters.length === 3 && replicas.every((p) => /master_link_status:up/.test(cli(p, 'info', 'replication')));
    }, 'every replica in sync');
    return cluster;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
