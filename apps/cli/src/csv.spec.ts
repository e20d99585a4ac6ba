import fc from 'fast-check';
import { CsvRecordCounter } from './csv';

function rows(...chunks: string[]): number {
  const sut = new CsvRecordCounter();
  for (const chunk of chunks) sut.push(chunk);
  return sut.rows;
}

describe('CsvRecordCounter', () => {
  it('counts the records after the header, a quoted line break and doubled quotes inside a field', () => {
    expect(rows('a,b\n1,2\n3,4\n')).toBe(2);
    expect(rows('a,b\n"Pixel ""7"",\nPro",2\n3,4\n')).toBe(2);
    expect(rows('a,b\n')).toBe(0);
    expect(rows('')).toBe(0);
  });

  it('counts a last line without its line break', () => {
    expect(rows('a,b\n1,2')).toBe(1);
  });

  it('counts the same however the text is cut into chunks', () => {
    const field = fc.oneof(fc.constantFrom('x', '1.5', ''), fc.string().map((s) => `"${s.replace(/"/g, '""')}"`), fc.constant('"a\nb"'));
    const csv = fc.array(fc.array(field, { minLength: 1, maxLength: 4 }).map((cells) => cells.join(',')), { minLength: 1, maxLength: 20 }).map((lines) => ({ text: `${lines.join('\n')}\n`, rows: lines.length - 1 }));
    fc.assert(
      fc.property(csv, fc.array(fc.nat(), { maxLength: 5 }), ({ text, rows: expected }, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((start, i) => text.slice(start, [...points, text.length][i]));
        expect(rows(...chunks)).toBe(expected);
      }),
    );
  });
});
