import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { setTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { TypedVariableModel } from '@grafana/data';

import { QueryEditor } from './QueryEditor';
import type { DataSource } from '../datasource';
import { fieldsOf, PhonesignalsQuery, QUERY_TYPES } from '../types';

// The dashboard's variables, as Grafana's template service lists them.
const templateSrv = {
  getVariables: () => [{ name: 'cycle' }, { name: 'employee' }] as unknown as TypedVariableModel[],
  replace: (s?: string) => s ?? '',
  containsTemplate: () => false,
  updateTimeRange: () => undefined,
} as unknown as TemplateSrv;

// Our data source's two resource calls, answering fixed lists: the editor
// is what is under test, the backend is tested in Go.
function datasource() {
  return {
    getCycles: jest.fn().mockResolvedValue([
      { cycle_id: '2026-08', period_start: '2026-08-01T00:00:00Z', period_end: '2026-09-01T00:00:00Z' },
      { cycle_id: '2026-09', period_start: '2026-09-01T00:00:00Z', period_end: '2026-10-01T00:00:00Z' },
    ]),
    getEmployees: jest.fn().mockResolvedValue([{ employee_id: 'E001', name: 'Ada', cohort: 'support' }]),
  };
}

async function renderEditor(query: PhonesignalsQuery, ds = datasource()) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  await act(async () => {
    render(<QueryEditor query={query} datasource={ds as unknown as DataSource} onChange={onChange} onRunQuery={onRunQuery} />);
  });
  return { onChange, onRunQuery, ds };
}

const fieldIds = {
  cycle: 'phonesignals-cycle',
  employee: 'phonesignals-employee',
  employeeOptional: 'phonesignals-employee',
  hours: 'phonesignals-hours',
  newestFirst: 'phonesignals-newest-first',
};

beforeAll(() => setTemplateSrv(templateSrv));

describe('QueryEditor', () => {
  it.each(QUERY_TYPES.map((t) => [t.value]))('shows exactly the fields of %s', async (queryType) => {
    await renderEditor({ refId: 'A', queryType });
    const want = new Set(fieldsOf(queryType).map((f) => fieldIds[f]));
    for (const id of new Set(Object.values(fieldIds))) {
      if (want.has(id)) {
        expect(document.getElementById(id)).not.toBeNull();
      } else {
        expect(document.getElementById(id)).toBeNull();
      }
    }
  });

  it('loads cycles only for types that read a cycle', async () => {
    const { ds } = await renderEditor({ refId: 'A', queryType: 'team_review', cycle: '$cycle' });
    expect(ds.getCycles).toHaveBeenCalledTimes(1);
    expect(ds.getEmployees).not.toHaveBeenCalled();
    expect(screen.getByText('$cycle')).toBeInTheDocument();
    const other = await renderEditor({ refId: 'B', queryType: 'sync_status' });
    expect(other.ds.getCycles).not.toHaveBeenCalled();
  });

  it('offers the cycles and variables, and sets the picked cycle', async () => {
    const { onChange, onRunQuery } = await renderEditor({ refId: 'A', queryType: 'employee_review', cycle: '', employee: 'E001' });
    const input = document.getElementById('phonesignals-cycle')!;
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    await waitFor(() => expect(screen.getByText('2026-09')).toBeInTheDocument());
    expect(screen.getByText('2026-09-01 to 2026-10-01 (end exclusive)')).toBeInTheDocument();
    fireEvent.click(screen.getByText('2026-09'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'employee_review', cycle: '2026-09', employee: 'E001' });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('shows why the cycles could not load', async () => {
    const ds = datasource();
    ds.getCycles.mockRejectedValue({ data: { error: 'org "acme": not found' } });
    await renderEditor({ refId: 'A', queryType: 'team_review' }, ds);
    expect(await screen.findByText('org "acme": not found')).toBeInTheDocument();
  });

  it('sets the hours of an alert query as a number', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'alert_escalated_calls' });
    fireEvent.change(document.getElementById('phonesignals-hours')!, { target: { value: '24' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'alert_escalated_calls', hours: 24 });
  });

  it('switches the query type and keeps the other fields', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'team_review', cycle: '2026-09' });
    fireEvent.keyDown(document.getElementById('phonesignals-query-type')!, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('Employee trend'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'employee_trend', cycle: '2026-09' });
  });

  it('toggles newest first for the cycles query', async () => {
    const { onChange } = await renderEditor({ refId: 'A', queryType: 'cycles' });
    fireEvent.click(document.getElementById('phonesignals-newest-first')!);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'cycles', newestFirst: true });
  });
});
