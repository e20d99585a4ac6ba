import { compareVersions, satisfies } from './version';

describe('OS version constraints', () => {
  it.each([
    ['13', '13.0', 0],
    ['13.1', '13', 1],
    ['9', '10', -1],
    ['14.0.1', '14.0.2', -1],
  ])('compares %s with %s numerically', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it.each([
    ['13', '>=13', true],
    ['12.1', '>=13', false],
    ['14', '>13', true],
    ['13', '>13', false],
    ['13.9', '<14', true],
    ['14', '<=14.0', true],
    ['11', '11', true],
    ['11.0.1', '=11', false],
    ['7.1', 'thirteen', false],
  ])('%s satisfies %s: %s', (version, constraint, expected) => {
    expect(satisfies(version, constraint)).toBe(expected);
  });
});
