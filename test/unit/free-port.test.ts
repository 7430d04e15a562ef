// The test harnesses' free port: outside the kernel's ephemeral range (an outgoing connection can
// take a port from that range before the server binds it), and never the same port twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { freePort, portTaken } from '../demo/free-port.js';

test('free ports come from below the ephemeral range, each one once', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
  const ports: number[] = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  const outside = ports.filter((p) => p < 20_000 || p >= Number(low) || p > 29_999);
  assert.deepEqual(
    outside,
    [],
    `ports outside 20000–29999 or inside the ephemeral range (${low}…)`,
  );
  assert.equal(new Set(ports).size, ports.length, 'no port handed out twice');
});

test('a daemon that lost its port is told apart from other failures', () => {
  assert.equal(
    portTaken(new Error('listen tcp 127.0.0.1:45673: bind: address already in use')),
    true,
  );
  assert.equal(portTaken(new Error('etcd exited: permission denied')), false);
});
