import { JobSpecSchema } from '@farm/contracts';
import { InvalidInput, ZodPipe } from './errors';

describe('validation errors', () => {
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
