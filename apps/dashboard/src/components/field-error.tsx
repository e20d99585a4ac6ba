import type { ReactNode } from 'react';

/** The API's messages about one field, shown beside it (`error-<field>` is what the field's aria-describedby names). */
export function FieldError({ field, messages }: { field: string; messages: readonly string[] | undefined }) {
  return messages ? <Messages id={`error-${field}`}>{messages}</Messages> : null;
}

export function Messages({ id, children }: { id: string; children: readonly string[] }): ReactNode {
  return (
    <div id={id} className="field-error" role="alert">
      {children.map((m) => (
        <p key={m}>{m}</p>
      ))}
    </div>
  );
}

/** The attributes tying a field to its messages, when it has some. */
export const describedBy = (field: string, messages: readonly string[] | undefined) => (messages ? { 'aria-invalid': true, 'aria-describedby': `error-${field}` } : {});
