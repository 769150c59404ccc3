import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { FieldSet, InlineField, InlineSwitch, Input, SecretInput, SecretTextArea } from '@grafana/ui';

import { PhonesignalsOptions, PhonesignalsSecureJsonData, SecureKey } from '../types';

type Props = DataSourcePluginOptionsEditorProps<PhonesignalsOptions, PhonesignalsSecureJsonData>;

type TextKey = 'clickhouse' | 'database' | 'username' | 'org' | 'kafka';

const LABEL_WIDTH = 20;

/** ConfigEditor edits one data source: where ClickHouse is, how to reach it (TLS, CA) and the one org it reads. */
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

  const setSecure = (key: SecureKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureData, [key]: value } });
  const resetSecure = (key: SecureKey) => () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureFields, [key]: false },
      secureJsonData: { ...secureData, [key]: '' },
    });

  // The backend refuses ClickHouse's TLS port without TLS (a CA implies TLS).
  const hasCA = !!secureFields.tlsCACert || !!secureData.tlsCACert;
  const tlsPortWithoutTLS = /:9440$/.test(jsonData.clickhouse ?? '') && !jsonData.tls && !hasCA;

  return (
    <>
      <FieldSet label="ClickHouse">
        {text('clickhouse', 'Address', 'HOST:PORT of the native protocol (usually 9000, not the HTTP port 8123; 9440 with TLS)', 'clickhouse:9000', true)}
        {text('database', 'Database', 'Default phonesignals', 'phonesignals')}
        {text('username', 'Username', 'A read-only user is enough. Default: default', 'default')}
        <InlineField label="Password" labelWidth={LABEL_WIDTH} tooltip="Optional; stored encrypted">
          <SecretInput
            id="phonesignals-password"
            width={40}
            isConfigured={!!secureFields.password}
            value={secureData.password ?? ''}
            placeholder="optional"
            onChange={(ev: ChangeEvent<HTMLInputElement>) => setSecure('password', ev.currentTarget.value)}
            onReset={resetSecure('password')}
          />
        </InlineField>
      </FieldSet>
      <FieldSet label="TLS">
        <InlineField
          label="TLS"
          labelWidth={LABEL_WIDTH}
          tooltip="Speak the native protocol over TLS (port 9440, ClickHouse Cloud). On by itself when a CA certificate is set."
          invalid={tlsPortWithoutTLS}
          disabled={hasCA}
          error={tlsPortWithoutTLS ? '9440 is ClickHouse\'s TLS port: turn TLS on' : undefined}
        >
          <InlineSwitch
            id="phonesignals-tls"
            value={!!jsonData.tls || hasCA}
            onChange={(ev: ChangeEvent<HTMLInputElement>) =>
              onOptionsChange({ ...options, jsonData: { ...jsonData, tls: ev.currentTarget.checked } })
            }
          />
        </InlineField>
        <InlineField
          label="CA certificate"
          labelWidth={LABEL_WIDTH}
          tooltip="Optional PEM of a private CA to trust besides the system roots (a self-managed server); stored encrypted"
        >
          <SecretTextArea
            id="phonesignals-tlsCACert"
            cols={60}
            rows={5}
            isConfigured={!!secureFields.tlsCACert}
            value={secureData.tlsCACert ?? ''}
            placeholder="-----BEGIN CERTIFICATE-----"
            onChange={(ev: ChangeEvent<HTMLTextAreaElement>) => setSecure('tlsCACert', ev.currentTarget.value)}
            onReset={resetSecure('tlsCACert')}
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
