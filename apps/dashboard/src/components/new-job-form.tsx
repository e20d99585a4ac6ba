import type { JobView } from '@farm/contracts';
import { useState, type FormEvent } from 'react';
import { api, ApiRequestError, errorText } from '../api';
import { fieldErrors, JOB_FORM_FIELDS } from '../view';
import { describedBy, FieldError, Messages } from './field-error';
import { JobTemplateFields, NEW_JOB_DRAFT, specOf } from './job-template-fields';

type Errors = ReturnType<typeof fieldErrors>;

/**
 * Submits a job. Nothing is checked here that the API checks: its 400 and 422 details are
 * shown beside the fields they name, so the form and the API can never disagree.
 */
export function NewJobForm({ onCreated }: { onCreated: (job: JobView) => void }) {
  const [name, setName] = useState('');
  const [draft, setDraft] = useState(NEW_JOB_DRAFT);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      const job = await api<JobView>('/jobs', { method: 'POST', body: specOf(name, draft) });
      setErrors({});
      onCreated(job);
    } catch (error) {
      setErrors(error instanceof ApiRequestError && error.body.details.length > 0 ? fieldErrors(error.body.details, JOB_FORM_FIELDS) : { form: [errorText(error)] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="new-job" aria-label="New job" noValidate onSubmit={(e) => void submit(e)}>
      <div>
        <label>
          Name <input type="text" value={name} onChange={(e) => setName(e.target.value)} {...describedBy('name', errors.name)} />
        </label>
        <FieldError field="name" messages={errors.name} />
      </div>
      <JobTemplateFields draft={draft} onChange={setDraft} errors={errors} />
      {errors.form && <Messages id="error-form">{errors.form}</Messages>}
      <div>
        <button type="submit" disabled={busy}>
          Submit job
        </button>
      </div>
    </form>
  );
}
