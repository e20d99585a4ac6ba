import { JobSpecSchema } from '@farm/contracts';
import { InvalidInput, ZodPipe, zodDetails } from './errors';

describe('validation errors', () => {
  it('names nested and indexed paths, and each unknown field by its own path', () => {
    const parsed = JobSpecSchema.safeParse({ name: 'x', models: ['ok', 7], scenarios: ['cloud'], iterations: 1, devices: { tags: [''], size: 3 }, extra: 1 });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(zodDetails(parsed.error).map((d) => d.path).sort()).toEqual(['devices.size', 'devices.tags[0]', 'extra', 'models[1]']);
  });

  it('throws a 400 from the pipe with the details', () => {
    const sut = new ZodPipe(JobSpecSchema);
    expect(() => sut.transform({})).toThrow(InvalidInput);
    try {
      sut.transform({});
    } catch (error) {
      expect((error as InvalidInput).getStatus()).toBe(400);
      expect((error as InvalidInput).getResponse()).toMatchObject({ details: expect.arrayContaining([{ path: 'name', message: expect.any(String) }]) });
    }
  });

  it('fills the defaults of a valid spec', () => {
    const sut = new ZodPipe(JobSpecSchema);
    expect(sut.transform({ name: 'x', models: ['mobilenet_v2'], scenarios: ['cloud'], iterations: 3 })).toMatchObject({
      devices: {},
      warmup: 0,
      priority: 5,
      deadlineMinutes: 1440,
      network: 'wifi',
      maxAttempts: 2,
    });
  });
});
