import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { PhonesignalsOptions, PhonesignalsQuery } from './types';

export const plugin = new DataSourcePlugin<DataSource, PhonesignalsQuery, PhonesignalsOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
