import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BoundedOutbox } from '../../src/notify/bounded-outbox.js';
import { NOTIFYING_DECISIONS } from '../../src/model/decision.js';
import { buildDecisionMessage } from '../../src/notify/build-decision-message.js';
import { parseRetryAfter } from '../../src/notify/post-to-slack.js';
import { ProgressThrottle } from '../../src/notify/progress-throttle.js';
import { resolveChannel } from '../../src/notify/resolve-channel.js';
import { allText } from './notify-fixtures.js';

const item = (id: string, progress = false) => ({ id, progress });

describe('BoundedOutbox', () => {
  test('keeps order below the limit', () => {
    const box = new BoundedOutbox<{ id: string; progress: boolean }>(3);
    assert.deepEqual(box.push(item('a')), []);
    assert.deepEqual(box.push(item('b', true)), []);
    assert.equal(box.shift()?.id, 'a');
    assert.equal(box.shift()?.id, 'b');
    assert.equal(box.shift(), undefined);
  });

  test('when full, drops the oldest progress message first', () => {
    const box = new BoundedOutbox<{ id: string; progress: boolean }>(3);
    box.push(item('queued'));
    box.push(item('p1', true));
    box.push(item('p2', true));
    assert.deepEqual(
      box.push(item('finished')).map((i) => i.id),
      ['p1'],
    );
    assert.deepEqual(
      [box.shift()?.id, box.shift()?.id, box.shift()?.id],
      ['queued', 'p2', 'finished'],
    );
  });

  test('with no progress queued, an incoming progress message is the one dropped', () => {
    const box = new BoundedOutbox<{ id: string; progress: boolean }>(2);
    box.push(item('queued'));
    box.push(item('started'));
    assert.deepEqual(
      box.push(item('p', true)).map((i) => i.id),
      ['p'],
    );
    assert.equal(box.size, 2);
  });

  test('with only important messages, the oldest goes', () => {
    const box = new BoundedOutbox<{ id: string; progress: boolean }>(2);
    box.push(item('a'));
    box.push(item('b'));
    assert.deepEqual(
      box.push(item('c')).map((i) => i.id),
      ['a'],
    );
    assert.deepEqual([box.shift()?.id, box.shift()?.id], ['b', 'c']);
  });
});

describe('ProgressThrottle', () => {
  function setup(intervalMs = 1000) {
    let now = 0;
    const emitted: Array<[string, number]> = [];
    const timers: Array<{ at: number; fn: () => void; cleared: boolean }> = [];
    const throttle = new ProgressThrottle<number>({
      intervalMs,
      now: () => now,
      emit: (key, n) => emitted.push([key, n]),
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn, cleared: false };
        timers.push(t);
        return t;
      },
      clearTimer: (h) => {
        (h as { cleared: boolean }).cleared = true;
      },
    });
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers) {
        if (!t.cleared && t.at <= now) {
          t.cleared = true;
          t.fn();
        }
      }
    };
    return { throttle, emitted, advance };
  }

  test('first message goes at once; a burst becomes one more message with the latest value', () => {
    const { throttle, emitted, advance } = setup();
    for (let i = 1; i <= 10; i++) {
      throttle.offer('job', i);
      advance(10);
    }
    assert.deepEqual(emitted, [['job', 1]]);
    advance(1000);
    assert.deepEqual(emitted, [
      ['job', 1],
      ['job', 10],
    ]);
  });

  test('a later stage cancels the held message', () => {
    const { throttle, emitted, advance } = setup();
    throttle.offer('job', 1);
    throttle.offer('job', 2);
    assert.equal(throttle.cancel('job'), 2);
    advance(5000);
    assert.deepEqual(emitted, [['job', 1]]);
    throttle.offer('job', 3);
    assert.deepEqual(emitted.at(-1), ['job', 3], 'after cancel the next one is not throttled');
  });

  test('jobs are throttled independently and releaseAll sends what is held', () => {
    const { throttle, emitted } = setup();
    throttle.offer('a', 1);
    throttle.offer('b', 1);
    throttle.offer('a', 2);
    throttle.offer('b', 2);
    assert.equal(throttle.heldCount, 2);
    throttle.releaseAll();
    assert.deepEqual(emitted, [
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['b', 2],
    ]);
  });

  test('after the interval a message goes straight out', () => {
    const { throttle, emitted, advance } = setup();
    throttle.offer('job', 1);
    advance(1500);
    throttle.offer('job', 2);
    assert.deepEqual(emitted, [
      ['job', 1],
      ['job', 2],
    ]);
  });
});

describe('resolveChannel', () => {
  const namespaceChannels = { payments: '#payments-deploys' };
  test('rule channel > namespace channel > default > webhook default', () => {
    assert.equal(
      resolveChannel({
        explicit: '#rule',
        namespace: 'payments',
        namespaceChannels,
        fallback: '#d',
      }),
      '#rule',
    );
    assert.equal(
      resolveChannel({ namespace: 'payments', namespaceChannels, fallback: '#d' }),
      '#payments-deploys',
    );
    assert.equal(resolveChannel({ namespace: 'other', namespaceChannels, fallback: '#d' }), '#d');
    assert.equal(resolveChannel({ namespace: 'other', namespaceChannels }), undefined);
    assert.equal(
      resolveChannel({ namespace: 'constructor', namespaceChannels }),
      undefined,
      'no prototype lookups',
    );
  });
});

describe('parseRetryAfter', () => {
  test('seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('1'), 1000);
    assert.equal(parseRetryAfter('0.5'), 500);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  });
});

describe('decision notices', () => {
  test('cooldown, circuit_open, paused and notify_only say what happened and why', () => {
    assert.deepEqual([...NOTIFYING_DECISIONS].sort(), [
      'circuit_open',
      'cooldown',
      'notify_only',
      'paused',
    ]);
    const base = {
      alertname: 'CriticalErrorRate',
      trigger: 'error_rate_threshold',
      confidence: 'high',
      target: { kind: 'Deployment' as const, namespace: 'payments', name: 'api' },
      generatorURL: 'http://prom.example/graph',
      labels: { alertname: 'CriticalErrorRate', service: 'api' },
    };
    const expected: Record<string, RegExp> = {
      cooldown: /cooldown/,
      circuit_open: /circuit breaker open.*resume/s,
      paused: /paused/,
      notify_only: /no automatic rollback/,
    };
    for (const decision of NOTIFYING_DECISIONS) {
      const msg = buildDecisionMessage({ ...base, decision, reason: `reason for ${decision}` });
      const text = allText(msg);
      assert.match(text, expected[decision], decision);
      for (const s of [
        'CriticalErrorRate',
        'error_rate_threshold',
        'Deployment payments/api',
        `reason for ${decision}`,
        'service=api',
        '<http://prom.example/graph|Alert source>',
      ]) {
        assert.ok(text.includes(s), `${decision}: missing ${s}`);
      }
      assert.match(msg.text, new RegExp(`reason for ${decision}$`));
    }
  });
});
