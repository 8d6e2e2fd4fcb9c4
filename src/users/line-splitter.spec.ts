import { LineSplitter, type LineEvent } from './line-splitter';

function split(chunks: Array<string | Buffer>, max = 100): LineEvent[] {
  const out: LineEvent[] = [];
  const s = new LineSplitter(max);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, (e) => out.push(e));
  s.end((e) => out.push(e));
  return out;
}

describe('LineSplitter', () => {
  it('numbers lines across chunk boundaries and strips CR', () => {
    expect(split(['a\r\nbb', 'b\n', '\nc'])).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'bbb' },
      { line: 3, text: '' },
      { line: 4, text: 'c' },
    ]);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const bytes = Buffer.from('héllo\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual([{ line: 1, text: 'héllo' }]);
  });

  it('reports an overlong line without buffering it and carries on', () => {
    const long = 'x'.repeat(30);
    expect(split([long, long, long, long, '\nok\n'], 64)).toEqual([
      { line: 1, tooLong: true },
      { line: 2, text: 'ok' },
    ]);
    expect(split(['y'.repeat(65) + '\nz'], 64)).toEqual([{ line: 1, tooLong: true }, { line: 2, text: 'z' }]);
    expect(split(['w'.repeat(70)], 64)).toEqual([{ line: 1, tooLong: true }]);
  });

  it('reports a line that is not valid UTF-8 by its number and carries on', () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\nok\n'), Buffer.from([0xed, 0xa0, 0x80, 0x0a])]);
    expect(split([bad.subarray(0, 7), bad.subarray(7)])).toEqual([{ line: 1, notUtf8: true }, { line: 2, text: 'ok' }, { line: 3, notUtf8: true }]);
  });

  it('emits nothing for an empty stream and no extra line after a final newline', () => {
    expect(split([])).toEqual([]);
    expect(split(['a\n'])).toEqual([{ line: 1, text: 'a' }]);
  });
});
