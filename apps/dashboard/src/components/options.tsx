/** A select's options, one per value, shown as `label(value)` (the value itself by default). */
export function Options({ values, label = (value) => value }: { values: readonly string[]; label?: (value: string) => string }) {
  return (
    <>
      {values.map((value) => (
        <option key={value} value={value}>
          {label(value)}
        </option>
      ))}
    </>
  );
}
