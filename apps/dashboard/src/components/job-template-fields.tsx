import { BACKENDS, SCENARIOS, type Backend, type JobSpec, type JobSpecInput, type Scenario } from '@farm/contracts';
import { useApi } from '../use-api';
import type { JobFormField } from '../view';
import { describedBy, FieldError } from './field-error';
import { Options } from './options';

/** What the job fields hold while they are edited. */
export interface JobDraft {
  models: string[];
  scenarios: Scenario[];
  backend: Backend | '';
  tags: string;
  iterations: string;
}

export const NEW_JOB_DRAFT: JobDraft = { models: [], scenarios: ['on_device'], backend: '', tags: '', iterations: '10' };

/** A job's spec as the fields show it (the fields they do not show are kept by the caller). */
export function draftOf(spec: JobSpec): JobDraft {
  return {
    models: spec.models,
    scenarios: spec.scenarios,
    backend: spec.devices.backend ?? '',
    tags: (spec.devices.tags ?? []).join(', '),
    iterations: String(spec.iterations),
  };
}

/** The spec to send; nothing is checked here that the API checks. */
export function specOf(name: string, draft: JobDraft): JobSpecInput {
  const tags = draft.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    name,
    models: draft.models,
    scenarios: draft.scenarios,
    devices: { ...(draft.backend && { backend: draft.backend }), ...(tags.length > 0 && { tags }) },
    iterations: draft.iterations.trim() === '' ? Number.NaN : Number(draft.iterations),
  };
}

const toggle = <T,>(list: readonly T[], item: T, on: boolean): T[] => (on ? [...list, item] : list.filter((x) => x !== item));

/**
 * A job's models, scenarios, devices and iterations, with the API's messages beside them:
 * `errors` by field as the API names it, under `prefix` (`template.` in a schedule).
 */
export function JobTemplateFields({
  draft,
  onChange,
  errors,
  prefix = '',
}: {
  draft: JobDraft;
  onChange: (draft: JobDraft) => void;
  errors: Partial<Record<string, string[]>>;
  prefix?: string;
}) {
  const models = useApi<{ name: string }[]>('/models');
  const set = (patch: Partial<JobDraft>): void => onChange({ ...draft, ...patch });
  const field = (name: JobFormField) => ({ id: `${prefix}${name}`, messages: errors[`${prefix}${name}`] });
  const error = (name: JobFormField) => <FieldError field={field(name).id} messages={field(name).messages} />;
  const described = (name: JobFormField) => describedBy(field(name).id, field(name).messages);
  return (
    <>
      <fieldset {...described('models')}>
        <legend>Models</legend>
        {models.error && <p className="error">{models.error}</p>}
        {models.data?.map((m) => (
          <label key={m.name}>
            <input type="checkbox" checked={draft.models.includes(m.name)} onChange={(e) => set({ models: toggle(draft.models, m.name, e.target.checked) })} />
            {m.name}
          </label>
        ))}
        {error('models')}
      </fieldset>
      <fieldset {...described('scenarios')}>
        <legend>Scenarios</legend>
        {SCENARIOS.map((s) => (
          <label key={s}>
            <input type="checkbox" checked={draft.scenarios.includes(s)} onChange={(e) => set({ scenarios: toggle(draft.scenarios, s, e.target.checked) })} />
            {s}
          </label>
        ))}
        {error('scenarios')}
      </fieldset>
      <fieldset {...described('devices')}>
        <legend>Devices</legend>
        <label>
          Backend{' '}
          <select value={draft.backend} onChange={(e) => set({ backend: e.target.value as Backend | '' })} {...described('devices.backend')}>
            <option value="">any</option>
            <Options values={BACKENDS} />
          </select>
        </label>
        {error('devices.backend')}
        <label>
          Tags (comma-separated) <input type="text" value={draft.tags} onChange={(e) => set({ tags: e.target.value })} {...described('devices.tags')} />
        </label>
        {error('devices.tags')}
        {error('devices')}
      </fieldset>
      <div>
        <label>
          Iterations <input type="number" inputMode="numeric" value={draft.iterations} onChange={(e) => set({ iterations: e.target.value })} {...described('iterations')} />
        </label>
        {error('iterations')}
      </div>
    </>
  );
}
