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

  it('emits nothing for an empty stream and no extra line after a final newline', () => {
    expect(split([])).toEqual([]);
    expect(split(['a\n'])).toEqual([{ line: 1, text: 'a' }]);
  });
});
