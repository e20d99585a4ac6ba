import { JobSpecSchema } from './job-spec';
import { zodDetails } from './validation';

describe('zodDetails', () => {
  it('names nested and indexed paths, and each unknown field by its own path', () => {
    const parsed = JobSpecSchema.safeParse({ name: 'x', models: ['ok', 7], scenarios: ['cloud'], iterations: 1, devices: { tags: [''], size: 3 }, extra: 1 });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(zodDetails(parsed.error).map((d) => d.path).sort()).toEqual(['devices.size', 'devices.tags[0]', 'extra', 'models[1]']);
  });

  it('names the whole value when it is not an object at all', () => {
    const parsed = JobSpecSchema.safeParse('a string');
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(zodDetails(parsed.error)).toEqual([{ path: '(body)', message: expect.stringContaining('expected object') }]);
  });
});
