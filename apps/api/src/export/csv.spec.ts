import { csvField, toCsv } from './csv';

describe('csvField', () => {
  it('leaves plain values bare', () => {
    expect(csvField('Pixel 7')).toBe('Pixel 7');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField(false)).toBe('false');
  });

  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
  });

  it('writes a null as nothing and an empty string as two quotes', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
  });
});

describe('toCsv', () => {
  it('writes the header and each row on a line of its own', () => {
    expect(toCsv(['model', 'n', 'energy_mj'], [['a "b", c', 3, null], ['d', 4, 1.25]])).toBe('model,n,energy_mj\n"a ""b"", c",3,\nd,4,1.25\n');
  });

  it('writes only the header when there are no rows', () => {
    expect(toCsv(['x'], [])).toBe('x\n');
  });
});
