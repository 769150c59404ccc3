import { interpolate } from './datasource';
import { DEFAULT_QUERY, fieldsOf, QUERY_TYPES } from './types';

describe('interpolate', () => {
  it('resolves cycle and employee and drops an org', () => {
    const vars: Record<string, string> = { $cycle: '2026-09', $employee: 'E001' };
    const q = interpolate({ refId: 'A', queryType: 'employee_review', cycle: '$cycle', employee: '$employee', org: 'globex' } as never, (s) => vars[s] ?? s);
    expect(q).toEqual({ refId: 'A', queryType: 'employee_review', cycle: '2026-09', employee: 'E001' });
  });

  it('leaves queries without variables alone', () => {
    expect(interpolate({ refId: 'A', queryType: 'sync_status' }, () => 'x')).toEqual({ refId: 'A', queryType: 'sync_status' });
  });
});

describe('query types', () => {
  it('are unique, described, and the default is one of them', () => {
    const values = QUERY_TYPES.map((t) => t.value);
    expect(new Set(values).size).toBe(values.length);
    expect(values).toContain(DEFAULT_QUERY.queryType);
    for (const t of QUERY_TYPES) {
      expect(t.description.length).toBeGreaterThan(10);
    }
    expect(fieldsOf('employee_review')).toEqual(['cycle', 'employee']);
    expect(fieldsOf('nope')).toEqual([]);
  });
});
