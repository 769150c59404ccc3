import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

import queryTypes from './queryTypes.json';

/** A field a query type reads; employeeOptional may stay empty. */
export type QueryField = 'cycle' | 'employee' | 'employeeOptional' | 'hours' | 'newestFirst';

/** One query type of the backend, with the fields its editor shows. */
export interface QueryTypeInfo {
  value: string;
  label: string;
  description: string;
  fields: QueryField[];
  /** Alert rules accept only these (a table of labels and one number). */
  alert?: boolean;
}

/** Every query type, in the order the editor lists them (shared with a Go test). */
export const QUERY_TYPES: QueryTypeInfo[] = queryTypes as QueryTypeInfo[];

/** The query model. There is no org: a data source reads only the org of its settings. */
export interface PhonesignalsQuery extends DataQuery {
  queryType?: string;
  /** Review cycle id or $cycle. */
  cycle?: string;
  /** Employee id or $employee. */
  employee?: string;
  /** Window of the alert types: the last N hours before the end of the time range. */
  hours?: number;
  /** Cycles newest first (the cycle variable, so dashboards open on the newest). */
  newestFirst?: boolean;
}

export const DEFAULT_QUERY: Partial<PhonesignalsQuery> = {
  queryType: 'team_review',
  cycle: '$cycle',
};

/** Settings of one data source (jsonData). */
export interface PhonesignalsOptions extends DataSourceJsonData {
  /** ClickHouse native protocol HOST:PORT. */
  clickhouse?: string;
  /** Default phonesignals. */
  database?: string;
  /** The one phonesignals org this data source reads. */
  org?: string;
  /** ClickHouse user (default: default). */
  username?: string;
  /** Kafka brokers HOST:PORT,... for records_behind. */
  kafka?: string;
  /** Native protocol over TLS (port 9440, ClickHouse Cloud); implied by secureJsonData.tlsCACert. */
  tls?: boolean;
}

/** Secrets, stored encrypted by Grafana and sent only to the backend. */
export interface PhonesignalsSecureJsonData {
  password?: string;
  /** PEM of a private CA to trust besides the system roots. */
  tlsCACert?: string;
}

/** The secureJsonData keys the backend reads. */
export type SecureKey = keyof PhonesignalsSecureJsonData;

/** A review cycle as GET /cycles returns it (period_end exclusive). */
export interface Cycle {
  cycle_id: string;
  period_start: string;
  period_end: string;
}

/** An employee as GET /employees returns it. */
export interface Employee {
  employee_id: string;
  name: string;
  cohort: string;
}

/** fieldsOf returns the fields a query type reads. */
export function fieldsOf(queryType: string | undefined): QueryField[] {
  return QUERY_TYPES.find((t) => t.value === queryType)?.fields ?? [];
}
