import { renderTemplate } from '../helpers/helm-lite';
import type { RenderContext } from '../helpers/helm-lite';

const ctx = (values: unknown): RenderContext => ({
  Values: values,
  Release: { Name: 'rel', Namespace: 'ns', Service: 'Helm' },
  Chart: { Name: 'c', Version: '1.0.0', AppVersion: '2.0.0' },
});

describe('renderTemplate', () => {
  describe('.values', () => {
    it('substitutes paths and pipes through functions', () => {
      expect(
        renderTemplate(
          'a: {{ .Values.x.y }} b: {{ .Values.s | quote }} c: {{ .Values.t | default .Chart.AppVersion }}',
          ctx({ x: { y: 1 }, s: 'q', t: '' }),
        ),
      ).toBe('a: 1 b: "q" c: 2.0.0');
    });

    it('indents toYaml with nindent', () => {
      expect(
        renderTemplate('k:\n  {{- toYaml .Values.m | nindent 2 }}\n', ctx({ m: { a: 1, b: [2] } })),
      ).toBe('k:\n  a: 1\n  b:\n    - 2\n');
    });
  });

  describe('.control', () => {
    it('trims whitespace around {{- and -}}', () => {
      expect(renderTemplate('a  \n  {{- .Release.Name -}}  \n b', ctx({}))).toBe('arelb');
    });

    it('renders if/else by Go truthiness', () => {
      const t = '{{- if .Values.on }}yes{{- else }}no{{- end }}';
      expect(renderTemplate(t, ctx({ on: true }))).toBe('yes');
      expect(renderTemplate(t, ctx({ on: '' }))).toBe('no');
      expect(renderTemplate(t, ctx({ on: [] }))).toBe('no');
      expect(renderTemplate(t, ctx({ on: {} }))).toBe('no');
      expect(renderTemplate(t, ctx({}))).toBe('no');
    });

    it('drops comments', () => {
      expect(renderTemplate('{{/* note */}}x', ctx({}))).toBe('x');
    });

    it('refuses what it does not support instead of rendering it wrongly', () => {
      expect(() => renderTemplate('{{ range .Values.l }}{{ end }}', ctx({}))).toThrow(
        'unsupported template action',
      );
      expect(() => renderTemplate('{{ .Values.x | upper }}', ctx({}))).toThrow(
        'unsupported template function: upper',
      );
      expect(() => renderTemplate('{{ if .Values.x }}open', ctx({}))).toThrow('missing {{ end }}');
    });
  });
});
