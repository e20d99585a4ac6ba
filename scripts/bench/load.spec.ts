import { parseOptions } from './load';

const argv = (...flags: string[]) => ['node', 'load.ts', ...flags];

describe('bench:load options', () => {
  it('takes flags over environment variables over the defaults', () => {
    expect(parseOptions(argv(), {})).toEqual({ rate: 50, duration: 10, connections: 10 });
    expect(parseOptions(argv(), { LOAD_RATE: '200', LOAD_DURATION_S: '5', LOAD_CONNECTIONS: '4' })).toEqual({ rate: 200, duration: 5, connections: 4 });
    expect(parseOptions(argv('--rate', '30', '--duration', '2'), { LOAD_RATE: '200' })).toEqual({ rate: 30, duration: 2, connections: 10 });
  });

  it.each([
    [['--rate', '0'], {}, /--rate must be a whole number from 1 to 100000/],
    [['--duration', 'ten'], {}, /--duration must be a whole number from 1 to 3600/],
    [['--connections', '2.5'], {}, /--connections must be a whole number from 1 to 1000/],
    [[], { LOAD_RATE: 'fast' }, /LOAD_RATE \(or --rate\) must be a whole number/],
    [[], { LOAD_DURATION_S: '-1' }, /LOAD_DURATION_S \(or --duration\) must be a whole number/],
    [['--speed', '3'], {}, /unknown option '--speed'/],
  ])('refuses %j %j, naming what is wrong', (flags, env, message) => {
    expect(() => parseOptions(argv(...flags), env)).toThrow(message);
  });
});
