import { CoreApp, DataSourceInstanceSettings, DataSourceVariableSupport, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import { Cycle, DEFAULT_QUERY, Employee, PhonesignalsOptions, PhonesignalsQuery, QUERY_TYPES } from './types';

/** A query variable on this data source runs a query of the backend (cycles by default). */
export class VariableSupport extends DataSourceVariableSupport<DataSource, PhonesignalsQuery> {
  getDefaultQuery(): Partial<PhonesignalsQuery> {
    return { queryType: 'cycles', newestFirst: true };
  }
}

/** The data source: queries, health and resources are all answered by the Go backend. */
export class DataSource extends DataSourceWithBackend<PhonesignalsQuery, PhonesignalsOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<PhonesignalsOptions>) {
    super(instanceSettings);
    this.variables = new VariableSupport();
  }

  getDefaultQuery(_: CoreApp): Partial<PhonesignalsQuery> {
    return { ...DEFAULT_QUERY };
  }

  filterQuery(query: PhonesignalsQuery): boolean {
    return !query.hide && QUERY_TYPES.some((t) => t.value === query.queryType);
  }

  applyTemplateVariables(query: PhonesignalsQuery, scopedVars: ScopedVars): PhonesignalsQuery {
    return interpolate(query, (s) => getTemplateSrv().replace(s, scopedVars));
  }

  /** The org's review cycles, oldest first. */
  getCycles(): Promise<Cycle[]> {
    return this.getResource('cycles');
  }

  /** The org's roster. */
  getEmployees(): Promise<Employee[]> {
    return this.getResource('employees');
  }
}

/** interpolate resolves the variables in cycle and employee and drops any org (the backend refuses one). */
export function interpolate(query: PhonesignalsQuery, replace: (s: string) => string): PhonesignalsQuery {
  const { org: _org, ...rest } = query as PhonesignalsQuery & { org?: string };
  const out: PhonesignalsQuery = { ...rest };
  if (typeof out.cycle === 'string') {
    out.cycle = replace(out.cycle);
  }
  if (typeof out.employee === 'string') {
    out.employee = replace(out.employee);
  }
  return out;
}
