import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { createOutputTail } from '../../src/executors/script/output-tail.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('createOutputTail', () => {
  const cases: Array<{ name: string; max: number; chunks: string[]; text: string; last: string }> =
    [
      {
        name: 'short output kept whole',
        max: 100,
        chunks: ['a\n', 'b\n'],
        text: 'a\nb\n',
        last: 'b',
      },
      {
        name: 'only the last bytes are kept',
        max: 5,
        chunks: ['hello ', 'world'],
        text: 'world',
        last: 'world',
      },
      {
        name: 'a single big chunk is cut',
        max: 4,
        chunks: ['0123456789'],
        text: '6789',
        last: '6789',
      },
      {
        name: 'cut across many chunks',
        max: 6,
        chunks: ['ab', 'cd', 'ef', 'gh', 'ij'],
        text: 'efghij',
        last: 'efghij',
      },
      {
        name: 'last non-empty line',
        max: 100,
        chunks: ['one\ntwo\n\n  \n'],
        text: 'one\ntwo\n\n  \n',
        last: 'two',
      },
      { name: 'CRLF lines', max: 100, chunks: ['x\r\ny\r\n'], text: 'x\r\ny\r\n', last: 'y' },
      // "é" is two bytes: keeping 3 bytes of "aéb" would start inside it; the half is dropped.
      { name: 'no half character at the start', max: 2, chunks: ['aéb'], text: 'b', last: 'b' },
      {
        name: 'four-byte character kept whole when it fits',
        max: 5,
        chunks: ['x😀y'],
        text: '😀y',
        last: '😀y',
      },
      { name: 'empty', max: 10, chunks: [], text: '', last: '' },
      { name: 'zero bytes kept', max: 0, chunks: ['abc'], text: '', last: '' },
    ];
  for (const c of cases) {
    test(c.name, () => {
      const tail = createOutputTail(c.max);
      for (const chunk of c.chunks) tail.push(bytes(chunk));
      assert.equal(tail.text(), c.text);
      assert.equal(tail.lastLine(), c.last);
      assert.ok(Buffer.byteLength(tail.text()) <= c.max);
    });
  }

  test('memory stays bounded over many small chunks', () => {
    const tail = createOutputTail(16);
    for (let i = 0; i < 10_000; i += 1) tail.push(bytes(`line ${i}\n`));
    assert.equal(tail.text(), ' 9998\nline 9999\n');
  });

  test('the caller may reuse its buffer after push', () => {
    const tail = createOutputTail(10);
    const buf = bytes('abc');
    tail.push(buf);
    buf.fill(0x7a);
    assert.equal(tail.text(), 'abc');
  });
});
