/** Marks a figure that comes from a simulated device rather than a measured one. */
export function Simulated({ when }: { when: boolean }) {
  return when ? <span className="tag">simulated</span> : null;
}
