import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { FieldSet, InlineField, Input, SecretInput } from '@grafana/ui';

import { PhonesignalsOptions, PhonesignalsSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<PhonesignalsOptions, PhonesignalsSecureJsonData>;

type TextKey = 'clickhouse' | 'database' | 'username' | 'org' | 'kafka';

const LABEL_WIDTH = 20;

/** ConfigEditor edits one data source: where ClickHouse is and the one org it reads. */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const secureFields = options.secureJsonFields ?? {};
  const secureData = options.secureJsonData ?? {};

  const setText = (key: TextKey) => (ev: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: ev.currentTarget.value } });

  const text = (key: TextKey, label: string, tooltip: string, placeholder: string, required = false) => (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} required={required} invalid={required && !jsonData[key]}>
      <Input
        id={`phonesignals-${key}`}
        width={40}
        value={jsonData[key] ?? ''}
        placeholder={placeholder}
        onChange={setText(key)}
      />
    </InlineField>
  );

  return (
    <>
      <FieldSet label="ClickHouse">
        {text('clickhouse', 'Address', 'HOST:PORT of the native protocol (usually 9000, not the HTTP port 8123)', 'clickhouse:9000', true)}
        {text('database', 'Database', 'Default phonesignals', 'phonesignals')}
        {text('username', 'Username', 'A read-only user is enough. Default: default', 'default')}
        <InlineField label="Password" labelWidth={LABEL_WIDTH} tooltip="Optional; stored encrypted">
          <SecretInput
            id="phonesignals-password"
            width={40}
            isConfigured={!!secureFields.password}
            value={secureData.password ?? ''}
            placeholder="optional"
            onChange={(ev: ChangeEvent<HTMLInputElement>) =>
              onOptionsChange({ ...options, secureJsonData: { ...secureData, password: ev.currentTarget.value } })
            }
            onReset={() =>
              onOptionsChange({
                ...options,
                secureJsonFields: { ...secureFields, password: false },
                secureJsonData: { ...secureData, password: '' },
              })
            }
          />
        </InlineField>
      </FieldSet>
      <FieldSet label="Org">
        {text(
          'org',
          'Org',
          'Required. This data source reads only this phonesignals org. Keep one Grafana organization per org (phonesignals grafana provision).',
          'acme',
          true
        )}
      </FieldSet>
      <FieldSet label="Kafka (optional)">
        {text('kafka', 'Brokers', 'HOST:PORT,... of the Kafka phonesignals uses; only the records-behind panel reads it', 'redpanda:9092')}
      </FieldSet>
    </>
  );
}
