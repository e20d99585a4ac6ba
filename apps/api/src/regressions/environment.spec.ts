import { changes, touches, type NightEnvironment } from './environment';

const night = (fingerprint: string, sha: string): NightEnvironment => ({
  devices: { d1: { deviceModel: 'Pixel 7', fingerprint }, d2: { deviceModel: 'Galaxy A14', fingerprint: 'g/1' } },
  models: { mobilenet_v2: null, custom: sha },
});

describe('changes', () => {
  it('names a rebuilt device and a replaced model, and the series they reset', () => {
    const sut = changes(night('p/1', 'aa'), night('p/2', 'bb'));
    expect(sut.notes).toEqual(['device d1 (Pixel 7) build fingerprint p/1 → p/2', 'model custom sha256 aa → bb']);
    expect(touches(sut, { deviceModel: 'Pixel 7', model: 'mobilenet_v2' })).toBe(true);
    expect(touches(sut, { deviceModel: 'Galaxy A14', model: 'custom' })).toBe(true);
    expect(touches(sut, { deviceModel: 'Galaxy A14', model: 'mobilenet_v2' })).toBe(false);
  });

  it('finds nothing when nothing changed, or a device is new', () => {
    expect(changes(night('p/1', 'aa'), night('p/1', 'aa')).notes).toEqual([]);
    const more = night('p/1', 'aa');
    more.devices['d3'] = { deviceModel: 'Pixel 7', fingerprint: 'p/9' };
    expect(changes(night('p/1', 'aa'), more).notes).toEqual([]);
  });
});
