import { BACKENDS, SCENARIOS, type Backend, type JobSpecInput, type JobView, type Scenario } from '@farm/contracts';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiRequestError, errorText } from '../api';
import { useApi } from '../use-api';
import { fieldErrors, type JobFormField } from '../view';

type Errors = ReturnType<typeof fieldErrors>;

const toggle = <T,>(list: readonly T[], item: T, on: boolean): T[] => (on ? [...list, item] : list.filter((x) => x !== item));

/**
 * Submits a job. Nothing is checked here that the API checks: its 400 and 422 details are
 * shown beside the fields they name, so the form and the API can never disagree.
 */
export function NewJobForm({ onCreated }: { onCreated: (job: JobView) => void }) {
  const models = useApi<{ name: string }[]>('/models');
  const [name, setName] = useState('');
  const [chosenModels, setChosenModels] = useState<string[]>([]);
  const [scenarios, setScenarios] = useState<Scenario[]>(['on_device']);
  const [backend, setBackend] = useState<Backend | ''>('');
  const [tags, setTags] = useState('');
  const [iterations, setIterations] = useState('10');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const tagList = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const spec: JobSpecInput = {
      name,
      models: chosenModels,
      scenarios,
      devices: { ...(backend && { backend }), ...(tagList.length > 0 && { tags: tagList }) },
      iterations: iterations.trim() === '' ? Number.NaN : Number(iterations),
    };
    setBusy(true);
    try {
      const job = await api<JobView>('/jobs', { method: 'POST', body: spec });
      setErrors({});
      onCreated(job);
    } catch (error) {
      setErrors(error instanceof ApiRequestError && error.body.details.length > 0 ? fieldErrors(error.body.details) : { form: [errorText(error)] });
    } finally {
      setBusy(false);
    }
  };

  const described = (field: JobFormField) => (errors[field] ? { 'aria-invalid': true, 'aria-describedby': `error-${field}` } : {});

  return (
    <form className="new-job" aria-label="New job" noValidate onSubmit={(e) => void submit(e)}>
      <div>
        <label>
          Name <input type="text" value={name} onChange={(e) => setName(e.target.value)} {...described('name')} />
        </label>
        <FieldError field="name" errors={errors} />
      </div>
      <fieldset {...described('models')}>
        <legend>Models</legend>
        {models.error && <p className="error">{models.error}</p>}
        {models.data?.map((m) => (
          <label key={m.name}>
            <input type="checkbox" checked={chosenModels.includes(m.name)} onChange={(e) => setChosenModels(toggle(chosenModels, m.name, e.target.checked))} />
            {m.name}
          </label>
        ))}
        <FieldError field="models" errors={errors} />
      </fieldset>
      <fieldset {...described('scenarios')}>
        <legend>Scenarios</legend>
        {SCENARIOS.map((s) => (
          <label key={s}>
            <input type="checkbox" checked={scenarios.includes(s)} onChange={(e) => setScenarios(toggle(scenarios, s, e.target.checked))} />
            {s}
          </label>
        ))}
        <FieldError field="scenarios" errors={errors} />
      </fieldset>
      <fieldset {...described('devices')}>
        <legend>Devices</legend>
        <label>
          Backend{' '}
          <select value={backend} onChange={(e) => setBackend(e.target.value as Backend | '')} {...described('devices.backend')}>
            <option value="">any</option>
            {BACKENDS.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <FieldError field="devices.backend" errors={errors} />
        <label>
          Tags (comma-separated) <input type="text" value={tags} onChange={(e) => setTags(e.target.value)} {...described('devices.tags')} />
        </label>
        <FieldError field="devices.tags" errors={errors} />
        <FieldError field="devices" errors={errors} />
      </fieldset>
      <div>
        <label>
          Iterations <input type="number" inputMode="numeric" value={iterations} onChange={(e) => setIterations(e.target.value)} {...described('iterations')} />
        </label>
        <FieldError field="iterations" errors={errors} />
      </div>
      {errors.form && <Messages id="error-form">{errors.form}</Messages>}
      <div>
        <button type="submit" disabled={busy}>
          Submit job
        </button>
      </div>
    </form>
  );
}

function FieldError({ field, errors }: { field: JobFormField; errors: Errors }) {
  const messages = errors[field];
  return messages ? <Messages id={`error-${field}`}>{messages}</Messages> : null;
}

function Messages({ id, children }: { id: string; children: string[] }): ReactNode {
  return (
    <div id={id} className="field-error" role="alert">
      {children.map((m) => (
        <p key={m}>{m}</p>
      ))}
    </div>
  );
}
