import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { ConfigEditor } from './ConfigEditor';
import { PhonesignalsOptions, PhonesignalsSecureJsonData } from '../types';

type Options = DataSourceSettings<PhonesignalsOptions, PhonesignalsSecureJsonData>;

function settings(jsonData: PhonesignalsOptions, secureJsonFields: Record<string, boolean> = {}): Options {
  return {
    id: 1,
    uid: 'ds',
    orgId: 2,
    name: 'phonesignals',
    type: 'phonesignals-phonesignals-datasource',
    typeName: 'phonesignals',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: true,
    withCredentials: false,
    readOnly: false,
    jsonData,
    secureJsonFields,
    secureJsonData: {},
  };
}

function renderEditor(options: Options) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={options} onOptionsChange={onOptionsChange} />);
  return onOptionsChange;
}

describe('ConfigEditor', () => {
  it('shows the settings', () => {
    renderEditor(settings({ clickhouse: 'clickhouse:9000', database: 'ps', org: 'acme', username: 'grafana', kafka: 'redpanda:9092' }));
    expect(screen.getByDisplayValue('clickhouse:9000')).toHaveAttribute('id', 'phonesignals-clickhouse');
    expect(screen.getByDisplayValue('acme')).toHaveAttribute('id', 'phonesignals-org');
    expect(screen.getByDisplayValue('redpanda:9092')).toHaveAttribute('id', 'phonesignals-kafka');
    expect(screen.getByDisplayValue('grafana')).toBeInTheDocument();
    expect(screen.getByText('Kafka (optional)')).toBeInTheDocument();
  });

  it.each([
    ['phonesignals-clickhouse', 'clickhouse', 'ch:9000'],
    ['phonesignals-org', 'org', 'globex'],
    ['phonesignals-database', 'database', 'reviews'],
    ['phonesignals-kafka', 'kafka', 'k1:9092,k2:9092'],
  ])('editing %s sets jsonData.%s and keeps the rest', (id, key, value) => {
    const onChange = renderEditor(settings({ clickhouse: 'clickhouse:9000', org: 'acme' }));
    fireEvent.change(document.getElementById(id)!, { target: { value } });
    expect(onChange).toHaveBeenCalledTimes(1);
    const next = onChange.mock.calls[0][0] as Options;
    expect(next.jsonData).toEqual({ clickhouse: 'clickhouse:9000', org: 'acme', [key]: value });
    expect(next.secureJsonData).toEqual({});
  });

  it('puts the password in secureJsonData, never in jsonData', () => {
    const onChange = renderEditor(settings({ clickhouse: 'ch:9000', org: 'acme' }));
    fireEvent.change(document.getElementById('phonesignals-password')!, { target: { value: 's3cret' } });
    const next = onChange.mock.calls[0][0] as Options;
    expect(next.secureJsonData).toEqual({ password: 's3cret' });
    expect(JSON.stringify(next.jsonData)).not.toContain('s3cret');
  });

  it('resets a stored password', () => {
    const onChange = renderEditor(settings({ clickhouse: 'ch:9000', org: 'acme' }, { password: true }));
    expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: /reset/i }));
    const next = onChange.mock.calls[0][0] as Options;
    expect(next.secureJsonFields).toEqual({ password: false });
    expect(next.secureJsonData).toEqual({ password: '' });
  });

  // The backend (grafana/pkg/plugin/settings.go) reads jsonData.tls and
  // secureJsonData.tlsCACert: the editor must offer both.
  describe('TLS and CA', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

    it('offers a TLS switch and a CA certificate field', () => {
      renderEditor(settings({ clickhouse: 'ch:9000', org: 'acme' }));
      const tls = document.getElementById('phonesignals-tls') as HTMLInputElement;
      expect(tls).toHaveAttribute('type', 'checkbox');
      expect(tls.checked).toBe(false);
      expect(document.getElementById('phonesignals-tlsCACert')?.tagName).toBe('TEXTAREA');
      expect(screen.getByText('CA certificate')).toBeInTheDocument();
    });

    it('turning TLS on sets jsonData.tls and keeps the rest', () => {
      const onChange = renderEditor(settings({ clickhouse: 'ch.example.com:9440', org: 'acme' }));
      fireEvent.click(document.getElementById('phonesignals-tls')!);
      const next = onChange.mock.calls[0][0] as Options;
      expect(next.jsonData).toEqual({ clickhouse: 'ch.example.com:9440', org: 'acme', tls: true });
      expect(next.secureJsonData).toEqual({});
    });

    it('shows a stored jsonData.tls as on', () => {
      renderEditor(settings({ clickhouse: 'ch:9440', org: 'acme', tls: true }));
      expect((document.getElementById('phonesignals-tls') as HTMLInputElement).checked).toBe(true);
      expect(screen.queryByText(/turn TLS on/)).not.toBeInTheDocument();
    });

    it('says that port 9440 needs TLS', () => {
      renderEditor(settings({ clickhouse: 'ch.example.com:9440', org: 'acme' }));
      expect(screen.getByText(/9440 is ClickHouse's TLS port/)).toBeInTheDocument();
    });

    it('puts the CA in secureJsonData.tlsCACert, never in jsonData', () => {
      const onChange = renderEditor(settings({ clickhouse: 'ch:9440', org: 'acme' }));
      fireEvent.change(document.getElementById('phonesignals-tlsCACert')!, { target: { value: pem } });
      const next = onChange.mock.calls[0][0] as Options;
      expect(next.secureJsonData).toEqual({ tlsCACert: pem });
      expect(JSON.stringify(next.jsonData)).not.toContain('BEGIN CERTIFICATE');
    });

    it('a stored CA implies TLS and can be reset', () => {
      const onChange = renderEditor(settings({ clickhouse: 'ch:9440', org: 'acme' }, { tlsCACert: true }));
      const tls = document.getElementById('phonesignals-tls') as HTMLInputElement;
      expect(tls.checked).toBe(true);
      expect(tls).toBeDisabled(); // cannot be turned off while a CA is set
      expect(screen.queryByText(/turn TLS on/)).not.toBeInTheDocument();
      expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
      fireEvent.click(screen.getByRole('button', { name: /reset/i }));
      const next = onChange.mock.calls[0][0] as Options;
      expect(next.secureJsonFields).toEqual({ tlsCACert: false });
      expect(next.secureJsonData).toEqual({ tlsCACert: '' });
    });
  });
});
