import { AdmissionGate, GateClosedError } from './admission';

describe('AdmissionGate', () => {
  it('admits up to the concurrency, queues up to the queue, refuses the rest at once', async () => {
    const gate = new AdmissionGate(2, 1);
    const a = gate.tryEnter();
    const b = gate.tryEnter();
    const c = gate.tryEnter();
    expect(gate.tryEnter()).toBeNull();
    await Promise.all([a, b]);
    expect([gate.inFlight, gate.queued]).toEqual([2, 1]);
    let cIn = false;
    void c?.then(() => (cIn = true));
    await Promise.resolve();
    expect(cIn).toBe(false);
    gate.leave();
    await c;
    expect([gate.inFlight, gate.queued]).toEqual([2, 0]);
    gate.leave();
    gate.leave();
    expect(gate.inFlight).toBe(0);
  });

  it('with no queue refuses as soon as every slot is taken', () => {
    const gate = new AdmissionGate(1, 0);
    expect(gate.tryEnter()).not.toBeNull();
    expect(gate.tryEnter()).toBeNull();
  });

  it('rejects waiters when closed', async () => {
    const gate = new AdmissionGate(1, 1);
    await gate.tryEnter();
    const waiting = gate.tryEnter();
    gate.close();
    await expect(waiting).rejects.toThrow(GateClosedError);
    await expect(gate.tryEnter()).rejects.toThrow(GateClosedError);
  });
});
