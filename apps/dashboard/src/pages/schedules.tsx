import type { ScheduleRunView, ScheduleView } from '@farm/contracts';
import { useState, type FormEvent } from 'react';
import { api, ApiRequestError, errorText } from '../api';
import { describedBy, FieldError, Messages } from '../components/field-error';
import { draftOf, JobTemplateFields, NEW_JOB_DRAFT, specOf } from '../components/job-template-fields';
import { Link } from '../router';
import { useApi } from '../use-api';
import { fieldErrors, formatInZone, SCHEDULE_FORM_FIELDS } from '../view';

type Errors = ReturnType<typeof fieldErrors<(typeof SCHEDULE_FORM_FIELDS)[number]>>;

export function SchedulesPage() {
  const { data, error, reload } = useApi<ScheduleView[]>('/schedules');
  // The schedule being edited, `new` for a new one.
  const [editing, setEditing] = useState<ScheduleView | 'new'>('new');
  const [saved, setSaved] = useState<ScheduleView>();
  const [fired, setFired] = useState<{ schedule: string; run?: ScheduleRunView; error?: string }>();

  const runNow = async (schedule: ScheduleView): Promise<void> => {
    try {
      setFired({ schedule: schedule.name, run: await api<ScheduleRunView>(`/schedules/${schedule.id}/run-now`, { method: 'POST', body: {} }) });
    } catch (failure) {
      setFired({ schedule: schedule.name, error: errorText(failure) });
    }
  };

  return (
    <>
      <h1>Schedules</h1>
      <section aria-labelledby="schedule-list">
        <h2 id="schedule-list">Nightly schedules</h2>
        {error && <p className="error">{error}</p>}
        {fired && (
          <p role="status" data-testid="run-now">
            {fired.run ? (
              <>
                {fired.schedule}: {fired.run.created ? 'a new night' : 'the night already ran'}, <Link to={`/jobs/${fired.run.jobId}`}>its job</Link>
              </>
            ) : (
              <span className="error">
                {fired.schedule}: {fired.error}
              </span>
            )}
          </p>
        )}
        <table aria-label="Schedules">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Cron</th>
              <th scope="col">Time zone</th>
              <th scope="col">Enabled</th>
              <th scope="col">Next fire times</th>
              <th scope="col">Job</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((schedule) => (
              <tr key={schedule.id} data-schedule={schedule.id}>
                <th scope="row">{schedule.name}</th>
                <td>
                  <code>{schedule.cron}</code>
                </td>
                <td>{schedule.timeZone}</td>
                <td>{schedule.enabled ? 'yes' : 'no'}</td>
                <td>
                  <FireTimes schedule={schedule} count={3} />
                </td>
                <td>
                  {schedule.template.models.join(', ')} · {schedule.template.scenarios.join(', ')} · {schedule.template.iterations} iterations
                </td>
                <td>
                  <button type="button" onClick={() => setEditing(schedule)} aria-label={`Edit ${schedule.name}`}>
                    Edit
                  </button>{' '}
                  <button type="button" onClick={() => void runNow(schedule)} aria-label={`Run ${schedule.name} now`}>
                    Run now
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {data?.length === 0 && <p>No schedules yet.</p>}
      </section>
      <section aria-labelledby="schedule-form">
        <h2 id="schedule-form">{editing === 'new' ? 'New schedule' : `Edit ${editing.name}`}</h2>
        <ScheduleForm
          key={editing === 'new' ? 'new' : editing.id}
          schedule={editing === 'new' ? undefined : editing}
          onSaved={(schedule) => {
            setSaved(schedule);
            setEditing('new');
            reload();
          }}
          onCancel={editing === 'new' ? undefined : () => setEditing('new')}
        />
        {saved && (
          <div role="status" data-testid="saved-schedule">
            <p>
              Saved {saved.name}. {saved.enabled ? 'Its next fire times:' : 'It is disabled: it does not fire.'}
            </p>
            <FireTimes schedule={saved} />
          </div>
        )}
      </section>
    </>
  );
}

function FireTimes({ schedule, count }: { schedule: ScheduleView; count?: number }) {
  if (schedule.nextFireTimes.length === 0) return <>—</>;
  return (
    <ul className="fire-times">
      {schedule.nextFireTimes.slice(0, count).map((time) => (
        <li key={time}>
          <time dateTime={time}>{formatInZone(time, schedule.timeZone)}</time>
        </li>
      ))}
    </ul>
  );
}

/**
 * Creates or edits a schedule. The API checks the cron expression, the time zone and the job
 * template; its messages appear beside the fields they name.
 */
function ScheduleForm({ schedule, onSaved, onCancel }: { schedule?: ScheduleView; onSaved: (schedule: ScheduleView) => void; onCancel?: () => void }) {
  const [name, setName] = useState(schedule?.name ?? '');
  const [cron, setCron] = useState(schedule?.cron ?? '0 2 * * *');
  const [timeZone, setTimeZone] = useState(schedule?.timeZone ?? 'UTC');
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true);
  const [baselineNights, setBaselineNights] = useState(String(schedule?.baselineNights ?? 7));
  const [webhookUrl, setWebhookUrl] = useState(schedule?.webhookUrl ?? '');
  const [draft, setDraft] = useState(schedule ? draftOf(schedule.template) : NEW_JOB_DRAFT);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const spec = specOf(name, draft);
    // What the form does not show (warm-up, priority, network, other device fields) is kept as it was.
    const otherDevices = Object.fromEntries(Object.entries(schedule?.template.devices ?? {}).filter(([field]) => field !== 'backend' && field !== 'tags'));
    const body = {
      name,
      cron,
      timeZone,
      enabled,
      baselineNights: baselineNights.trim() === '' ? Number.NaN : Number(baselineNights),
      webhookUrl: webhookUrl.trim() || null,
      template: { ...schedule?.template, ...spec, devices: { ...otherDevices, ...spec.devices } },
    };
    setBusy(true);
    try {
      const answer = schedule ? await api<ScheduleView>(`/schedules/${schedule.id}`, { method: 'PATCH', body }) : await api<ScheduleView>('/schedules', { method: 'POST', body });
      setErrors({});
      onSaved(answer);
    } catch (error) {
      setErrors(error instanceof ApiRequestError && error.body.details.length > 0 ? fieldErrors(error.body.details, SCHEDULE_FORM_FIELDS) : { form: [errorText(error)] });
    } finally {
      setBusy(false);
    }
  };

  const text = (field: 'name' | 'cron' | 'timeZone' | 'baselineNights' | 'webhookUrl', label: string, value: string, set: (value: string) => void, hint?: string) => {
    // The job a schedule submits takes the schedule's name: its messages show here too.
    const messages = field === 'name' ? mergeMessages(errors.name, errors['template.name']) : errors[field];
    return (
      <div>
        <label>
          {label} <input type={field === 'baselineNights' ? 'number' : 'text'} value={value} onChange={(e) => set(e.target.value)} {...describedBy(field, messages)} />
        </label>
        {hint && <small> {hint}</small>}
        <FieldError field={field} messages={messages} />
      </div>
    );
  };

  return (
    <form className="new-job" aria-label={schedule ? `Edit schedule ${schedule.name}` : 'New schedule'} noValidate onSubmit={(e) => void submit(e)}>
      {text('name', 'Name', name, setName)}
      {text('cron', 'Cron', cron, setCron, 'minute hour day month weekday, e.g. 0 2 * * *')}
      {text('timeZone', 'Time zone', timeZone, setTimeZone, 'IANA, e.g. Europe/Paris')}
      <div>
        <label>
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
        <FieldError field="enabled" messages={errors.enabled} />
      </div>
      {text('baselineNights', 'Baseline nights', baselineNights, setBaselineNights)}
      {text('webhookUrl', 'Webhook URL', webhookUrl, setWebhookUrl, 'optional')}
      <JobTemplateFields draft={draft} onChange={setDraft} errors={errors} prefix="template." />
      {errors.form && <Messages id="error-form">{errors.form}</Messages>}
      <div>
        <button type="submit" disabled={busy}>
          {schedule ? 'Save schedule' : 'Create schedule'}
        </button>{' '}
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel edit
          </button>
        )}
      </div>
    </form>
  );
}

const mergeMessages = (a: string[] | undefined, b: string[] | undefined): string[] | undefined => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);
