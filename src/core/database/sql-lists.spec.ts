import { bigintList, intList, parseRecords } from './sql-lists';

describe('sql-lists', () => {
  it('bigintList writes a bigint[] literal, empty included', () => {
    expect(bigintList([1n, 9007199254740993n, 42n])).toBe('{1,9007199254740993,42}');
    expect(bigintList([])).toBe('{}');
  });

  it('intList writes an int[] literal and refuses what is not an integer', () => {
    expect(intList([0, 999999, 5])).toBe('{0,999999,5}');
    expect(intList([])).toBe('{}');
    expect(() => intList([1.5])).toThrow(RangeError);
    expect(() => intList([Number.NaN])).toThrow(RangeError);
  });

  it('parseRecords splits string_agg output into records and fields', () => {
    expect(parseRecords('1:10:1,2:20:3')).toEqual([
      ['1', '10', '1'],
      ['2', '20', '3'],
    ]);
    expect(parseRecords('9007199254740993:7')).toEqual([['9007199254740993', '7']]);
    expect(parseRecords(null)).toEqual([]);
    expect(parseRecords('')).toEqual([]);
  });
});
