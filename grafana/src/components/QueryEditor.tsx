import React, { useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { InlineField, InlineFieldRow, InlineSwitch, Input, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { Cycle, DEFAULT_QUERY, Employee, fieldsOf, PhonesignalsOptions, PhonesignalsQuery, QUERY_TYPES } from '../types';

type Props = QueryEditorProps<DataSource, PhonesignalsQuery, PhonesignalsOptions>;

const LABEL_WIDTH = 12;

/** variableOptions lists the dashboard's variables as $name options. */
function variableOptions(): Array<SelectableValue<string>> {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => ({ value: '$' + v.name, label: '$' + v.name, description: 'dashboard variable' }));
  } catch {
    return [];
  }
}

/** useResource loads one of the backend's lists while `enabled`, with its error. */
function useResource<T>(enabled: boolean, load: (() => Promise<T[]>) | undefined): [T[], string] {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    if (!enabled || !load) {
      return undefined;
    }
    load().then(
      (xs) => live && (setItems(xs ?? []), setError('')),
      (err) => live && setError(err?.data?.error ?? err?.message ?? String(err))
    );
    return () => {
      live = false;
    };
  }, [enabled, load]);
  return [items, error];
}

/** QueryEditor shows the field set of the chosen query type. */
export function QueryEditor({ query, datasource, onChange, onRunQuery }: Props) {
  const q: PhonesignalsQuery = { ...DEFAULT_QUERY, ...query };
  const fields = fieldsOf(q.queryType);
  const wantsEmployee = fields.includes('employee') || fields.includes('employeeOptional');
  const loadCycles = useMemo(() => datasource?.getCycles?.bind(datasource), [datasource]);
  const loadEmployees = useMemo(() => datasource?.getEmployees?.bind(datasource), [datasource]);
  const [cycles, cycleError] = useResource<Cycle>(fields.includes('cycle'), loadCycles);
  const [employees, employeeError] = useResource<Employee>(wantsEmployee, loadEmployees);
  const vars = variableOptions();

  const change = (patch: Partial<PhonesignalsQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery?.();
  };
  const typeInfo = QUERY_TYPES.find((t) => t.value === q.queryType);

  return (
    <InlineFieldRow>
      <InlineField label="Query" labelWidth={LABEL_WIDTH} tooltip={typeInfo?.description}>
        <Select
          inputId="phonesignals-query-type"
          width={30}
          options={QUERY_TYPES.map((t) => ({ value: t.value, label: t.label, description: t.description }))}
          value={q.queryType}
          onChange={(v) => change({ queryType: v.value })}
        />
      </InlineField>
      {fields.includes('cycle') && (
        <InlineField label="Cycle" labelWidth={LABEL_WIDTH} invalid={!!cycleError} error={cycleError} tooltip="A review cycle id, or $cycle">
          <Select
            inputId="phonesignals-cycle"
            width={30}
            allowCustomValue
            options={[
              ...vars,
              ...cycles.map((c) => ({
                value: c.cycle_id,
                label: c.cycle_id,
                description: `${c.period_start.slice(0, 10)} to ${c.period_end.slice(0, 10)} (end exclusive)`,
              })),
            ]}
            value={q.cycle ? { value: q.cycle, label: q.cycle } : null}
            placeholder="cycle or $cycle"
            onChange={(v) => change({ cycle: v?.value ?? '' })}
          />
        </InlineField>
      )}
      {wantsEmployee && (
        <InlineField
          label="Employee"
          labelWidth={LABEL_WIDTH}
          invalid={!!employeeError}
          error={employeeError}
          tooltip={fields.includes('employeeOptional') ? 'An employee id or $employee; empty for the whole org' : 'An employee id, or $employee'}
        >
          <Select
            inputId="phonesignals-employee"
            width={30}
            allowCustomValue
            isClearable={fields.includes('employeeOptional')}
            options={[...vars, ...employees.map((e) => ({ value: e.employee_id, label: e.employee_id, description: `${e.name} (${e.cohort})` }))]}
            value={q.employee ? { value: q.employee, label: q.employee } : null}
            placeholder={fields.includes('employeeOptional') ? 'whole org' : 'employee or $employee'}
            onChange={(v) => change({ employee: v?.value ?? '' })}
          />
        </InlineField>
      )}
      {fields.includes('hours') && (
        <InlineField label="Hours" labelWidth={LABEL_WIDTH} tooltip="The last N hours before the end of the time range (0: the default window)">
          <Input
            id="phonesignals-hours"
            type="number"
            min={0}
            width={12}
            value={q.hours ?? ''}
            placeholder="default"
            onChange={(ev) => {
              const n = ev.currentTarget.valueAsNumber;
              change({ hours: Number.isFinite(n) && n > 0 ? n : undefined });
            }}
          />
        </InlineField>
      )}
      {fields.includes('newestFirst') && (
        <InlineField label="Newest first" labelWidth={LABEL_WIDTH} tooltip="List the newest cycle first, so a cycle variable opens on it">
          <InlineSwitch
            id="phonesignals-newest-first"
            value={!!q.newestFirst}
            onChange={(ev) => change({ newestFirst: ev.currentTarget.checked })}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
